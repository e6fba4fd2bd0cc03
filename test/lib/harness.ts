import {execa, type Options, type Result} from 'execa'
import {chmod, copyFile, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
export const LAGO_BIN = path.join(REPO_ROOT, 'bin/lago')

/** The tiny guest image built by test/harness/build-guest-image.sh (run-tests.mjs passes it). */
export function guestImage(): string {
  const image = process.env.LAGO_TEST_IMAGE
  if (!image) throw new Error('LAGO_TEST_IMAGE is not set: run the e2e tests through "npm test" (test/run-tests.mjs)')
  return image
}

/** A sandbox for one test file: its own store, lease dir and prefixes under one temp dir. */
export class Sandbox {
  private constructor(readonly dir: string) {}

  static async create(name: string): Promise<Sandbox> {
    const base = path.join(REPO_ROOT, 'test/.tmp')
    await mkdir(base, {recursive: true})
    const dir = await mkdtemp(path.join(base, `${name}-`))
    await chmod(dir, 0o755) // like a normal directory: qemu (a non-root user on real hosts) must enter it
    return new Sandbox(dir)
  }

  get store() {
    return path.join(this.dir, 'store')
  }
  get leases() {
    return path.join(this.dir, 'subnets')
  }

  /** Environment for the lago CLI: sandboxed store and leases, test-sized SSH deadline. */
  env(extra: Record<string, string> = {}): Record<string, string> {
    return {
      LAGO_TEMPLATE_STORE: this.store,
      LAGO_LEASE_DIR: this.leases,
      // Concurrent test runs on one host (several checkouts) each take their own pool.
      LAGO_SUBNET_FIRST: process.env.LAGO_TEST_SUBNET_FIRST ?? '192.168.200.0',
      LAGO_SUBNET_COUNT: process.env.LAGO_TEST_SUBNET_COUNT ?? '30',
      LAGO__SSH__BOOT_TIMEOUT: '120',
      // Reading stopped VMs' disks after each failure costs a libguestfs boot: only the tests of it collect.
      LAGO__CI__COLLECT_ON_FAILURE: 'false',
      LAGO_SYSTEM_CONFIG_DIR: path.join(this.dir, 'no-system-config'),
      XDG_CONFIG_HOME: path.join(this.dir, 'config'),
      ...extra,
    }
  }

  lago(args: string[], options: Options & {env?: Record<string, string>} = {}): Promise<Result> {
    return execa(LAGO_BIN, args, {cwd: this.dir, reject: false, all: true, ...options, env: this.env(options.env as Record<string, string>)})
  }

  /** A shell-quoted command line running lago with this sandbox's environment (for `script -c`). */
  lagoCommandLine(args: string[]): string {
    return [LAGO_BIN, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ')
  }

  /** The subnet lease files currently in this sandbox's lease directory. */
  async leaseFiles(): Promise<string[]> {
    return (await readdir(this.leases).catch(() => [] as string[])).filter((name) => name.endsWith('.lease'))
  }

  /** A Lago template repository (file source) holding the tiny guest as tiny:v1. */
  async templateRepo(): Promise<string> {
    const image = guestImage()
    const root = path.join(this.dir, 'repo')
    await mkdir(root, {recursive: true})
    await symlink(image, path.join(root, 'tiny-v1.qcow2')).catch(() => undefined)
    const sha256 = (await readFile(`${image}.sha256`, 'utf8')).trim().split(/\s+/)[0]
    await writeFile(path.join(root, 'tiny-v1.qcow2.hash'), `${sha256}\n`)
    await copyFile(`${image}.metadata`, path.join(root, 'tiny-v1.qcow2.metadata'))
    const repo = {
      name: 'lago-test',
      sources: {local: {type: 'file', args: {root}}},
      templates: {tiny: {versions: {v1: {source: 'local', handle: 'tiny-v1.qcow2', timestamp: 1_700_000_000}}}},
    }
    const file = path.join(this.dir, 'template-repo.json')
    await writeFile(file, JSON.stringify(repo, null, 2))
    return file
  }

  async writeInitFile(name: string, text: string): Promise<string> {
    const file = path.join(this.dir, name)
    await writeFile(file, text)
    return file
  }

  async remove(): Promise<void> {
    await rm(this.dir, {recursive: true, force: true})
  }
}

export const ONE_VM_INIT_FILE = `
domains:
  vm0:
    memory: 256
    vcpu: 1
    nics:
      - net: lago
    disks:
      - template_name: tiny
        type: template
        name: root
        dev: vda
nets:
  lago:
    type: nat
`

export async function virsh(args: string[]): Promise<string> {
  const result = await execa('virsh', ['-q', '-c', 'qemu:///system', ...args])
  return String(result.stdout)
}

/** libvirt objects (domains and networks, active or not) whose names carry `id`. */
export async function libvirtObjectsOf(id: string): Promise<string[]> {
  const domains = (await virsh(['list', '--all', '--name'])).split('\n')
  const nets = (await virsh(['net-list', '--all', '--name'])).split('\n')
  return [...domains, ...nets].map((s) => s.trim()).filter((name) => name.includes(id))
}

export function tmpdir(): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), 'lago-e2e-'))
}
