import {createReadStream} from 'node:fs'
import {fileDigest} from '../../templates/digest.js'
import {stat} from 'node:fs/promises'
import path from 'node:path'
import {LagoError} from '../../errors.js'
import type {HypervisorConnection} from './connection.js'

/**
 * Where a prefix's files live on a hypervisor host: the prefix directory is mirrored under
 * `DIR/prefixes/UUID/` (disks, seeds, console logs), and files from outside it (templates,
 * file disks) are copied once into `DIR/store/SHA256` with their hash checked on arrival.
 */
export class RemoteFiles {
  private readonly uploads = new Map<string, Promise<string>>()

  constructor(
    readonly connection: HypervisorConnection,
    /** The hypervisor's directory for Lago (remote.dir). */
    readonly dir: string,
    /** The local prefix directory and the remote directory that mirrors it. */
    readonly localRoot: string,
    readonly uuid: string,
  ) {}

  get remoteRoot(): string {
    return path.posix.join(this.dir, 'prefixes', this.uuid)
  }

  /** The hypervisor's path of a file of the prefix; undefined for files outside it. */
  mirrored(localFile: string): string | undefined {
    const relative = path.relative(this.localRoot, path.resolve(this.localRoot, localFile))
    if (relative.startsWith('..') || path.isAbsolute(relative)) return undefined
    return path.posix.join(this.remoteRoot, relative.split(path.sep).join('/'))
  }

  /** The hypervisor's path of a file the core names: its mirror, or its stored copy (copied now if needed). */
  async place(localFile: string): Promise<string> {
    const mirror = this.mirrored(localFile)
    if (mirror !== undefined) {
      await this.mkdirFor(mirror)
      return mirror
    }
    let upload = this.uploads.get(localFile)
    if (!upload) {
      upload = this.store(localFile)
      this.uploads.set(localFile, upload)
    }
    return upload
  }

  async mkdirFor(remoteFile: string): Promise<void> {
    await this.connection.check(`mkdir ${path.posix.dirname(remoteFile)}`, ['mkdir', '-p', path.posix.dirname(remoteFile)])
  }

  /** Copy a local file into the host's store by content; a copy already there is reused. */
  private async store(localFile: string): Promise<string> {
    const hash = (await fileDigest(localFile)).hex
    const target = path.posix.join(this.dir, 'store', hash)
    // This prefix uses the copy from now on: removeMirror drops the copy with its last user.
    await this.connection.check('register the store copy', ['mkdir', '-p', `${target}.users`])
    await this.connection.check('register the store copy', ['touch', path.posix.join(`${target}.users`, this.uuid)])
    const present = await this.connection.exec(['test', '-f', target])
    if (present.exitCode === 0) return target
    const partial = `${target}.part-${process.pid}`
    await this.connection.check('mkdir store', ['mkdir', '-p', path.posix.dirname(target)])
    const size = (await stat(localFile)).size
    await this.connection.check(`upload ${path.basename(localFile)} (${size} bytes)`, ['sh', '-c', 'cat > "$1"', 'sh', partial], {stdin: createReadStream(localFile)})
    const arrived = (await this.connection.check('sha256sum', ['sha256sum', partial])).split(/\s+/)[0]
    if (arrived !== hash) {
      await this.connection.exec(['rm', '-f', partial])
      throw new LagoError('TEMPLATE', `${this.connection.label}: ${localFile} arrived with sha256 ${arrived}, expected ${hash}; the copy was removed.`, {
        userError: false,
        detail: {host: this.connection.label, file: localFile},
      })
    }
    await this.connection.check('store the copy', ['mv', '-f', partial, target])
    return target
  }

  /** Upload a small local file of the prefix to its mirror. */
  async upload(localFile: string): Promise<string> {
    const target = await this.place(localFile)
    await this.connection.check(`upload ${path.basename(localFile)}`, ['sh', '-c', 'cat > "$1"', 'sh', target], {stdin: createReadStream(localFile)})
    return target
  }

  async read(remoteFile: string): Promise<string | undefined> {
    const result = await this.connection.exec(['cat', remoteFile])
    return result.exitCode === 0 ? result.stdout : undefined
  }

  /**
   * Remove the prefix's mirror directory and its uses of stored copies; a copy no prefix uses
   * any more goes too, and so do the directories left empty. Nothing outside DIR is touched.
   */
  async removeMirror(): Promise<void> {
    if (!/^[0-9a-f]{32}$/.test(this.uuid)) throw new LagoError('INTERNAL', `Not a prefix uuid: "${this.uuid}".`, {userError: false})
    const script = [
      'dir=$1 uuid=$2',
      'rm -rf --one-file-system "$dir/prefixes/$uuid"',
      'for users in "$dir"/store/*.users; do',
      '  [ -d "$users" ] || continue',
      '  rm -f "$users/$uuid"',
      '  rmdir "$users" 2>/dev/null && rm -f "${users%.users}"',
      'done',
      'rmdir "$dir/prefixes" "$dir/store" 2>/dev/null',
      'true',
    ].join('\n')
    await this.connection.check(`remove ${this.remoteRoot}`, ['sh', '-c', script, 'sh', this.dir, this.uuid])
  }
}
