import path from 'node:path'
import {LagoError} from '../../errors.js'
import type {BackingImage, DiskImages, ImageOptions} from '../provider.js'
import {parseImageInfo, qemuImgArgs} from '../qemu-img.js'
import type {RemoteFiles} from './files.js'

/**
 * Disk images on a hypervisor host, made there with its qemu-img over SSH. The core names
 * files as if they were local; each becomes its place on the host (RemoteFiles.place).
 */
export function remoteImages(files: RemoteFiles): DiskImages {
  const qemuImg = async (args: string[], options: ImageOptions): Promise<string> => {
    const result = await files.connection.exec(['qemu-img', ...args], {signal: options.signal})
    if (result.exitCode !== 0) {
      const why = (result.stderr || result.stdout).trim().split('\n').pop()
      throw new LagoError(options.code ?? 'VM', `${options.subject}: qemu-img ${args[0]} failed on ${files.connection.label}: ${why}`, {
        userError: options.userError ?? options.code === 'INIT_FILE',
        detail: {subject: options.subject, args, host: files.connection.label},
      })
    }
    return result.stdout
  }
  const backingOn = async (backing: BackingImage): Promise<BackingImage> => ({path: await files.place(backing.path), format: backing.format})
  return {
    async createOverlay(file, backing, options) {
      await qemuImg(qemuImgArgs.createOverlay(await files.place(file), await backingOn(backing), options.lazyRefcounts ?? false), options)
    },
    async createEmpty(file, sizeBytes, options) {
      await qemuImg(qemuImgArgs.createEmpty(await files.place(file), sizeBytes), options)
    },
    async info(file, options) {
      return parseImageInfo(await qemuImg(qemuImgArgs.info(await files.place(file)), options))
    },
    async convert(source, target, options) {
      const backing = options.backing ? await backingOn(options.backing) : undefined
      await qemuImg(qemuImgArgs.convert(await files.place(source), await files.place(target), backing), options)
    },
    async rebaseUnsafe(file, backing, options) {
      // A snapshot's layers name each other by the host's paths.
      await qemuImg(qemuImgArgs.rebaseUnsafe(await files.place(file), await backingOn(backing)), options)
    },
    async copy(source, target) {
      const from = await files.place(source)
      await files.connection.check(`copy ${path.posix.basename(from)}`, ['cp', '--', from, await files.place(target)])
    },
    async remove(file) {
      const target = files.mirrored(file)
      if (target) await files.connection.check(`remove ${path.posix.basename(target)}`, ['rm', '-f', '--', target])
    },
  }
}
