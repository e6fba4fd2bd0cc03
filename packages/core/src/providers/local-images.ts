import {copyFile, rm} from 'node:fs/promises'
import type {DiskImages} from './provider.js'
import {parseImageInfo, qemuImg, qemuImgArgs} from './qemu-img.js'

/**
 * Disk images on this host, with this host's qemu-img: the local libvirt provider's images,
 * and the template store's checks of the files it downloads.
 */
export const localImages: DiskImages = {
  async createOverlay(file, backing, options) {
    await qemuImg(qemuImgArgs.createOverlay(file, backing, options.lazyRefcounts ?? false), options)
  },
  async createEmpty(file, sizeBytes, options) {
    await qemuImg(qemuImgArgs.createEmpty(file, sizeBytes), options)
  },
  async info(file, options) {
    return parseImageInfo(await qemuImg(qemuImgArgs.info(file), options))
  },
  async convert(source, target, options) {
    await qemuImg(qemuImgArgs.convert(source, target, options.backing), options)
  },
  async rebaseUnsafe(file, backing, options) {
    await qemuImg(qemuImgArgs.rebaseUnsafe(file, backing), options)
  },
  copy: (source, target) => copyFile(source, target),
  remove: (file) => rm(file, {force: true}),
}
