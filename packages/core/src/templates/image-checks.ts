import {realpath, stat} from 'node:fs/promises'
import {errorMessage, LagoError} from '../errors.js'
import {log} from '../log.js'
import {localImages} from '../providers/local-images.js'
import {readableByAnyone, realpathWithin} from '../util/safe-path.js'
import type {ResolvedTemplate} from './repo.js'
import type {ImageFormat, StoredTemplate} from './store.js'

// What a template image must satisfy to enter the store, and a stored one to be used.

/**
 * A stored image is used only as it was stored: its size as recorded, writable by nobody but
 * its owner (a group member cannot have swapped its bytes in place). It is not re-hashed
 * on every use (about 1.3 s per GiB here).
 */
export async function checkIntact(stored: StoredTemplate): Promise<StoredTemplate> {
  const info = await stat(stored.path)
  const problem =
    (info.mode & 0o022) !== 0
      ? `is writable by group or others (mode ${(info.mode & 0o7777).toString(8)})`
      : stored.recordedSize !== undefined && stored.recordedSize !== info.size
        ? `is ${info.size} bytes, but ${stored.recordedSize} were verified`
        : undefined
  if (problem) {
    throw new LagoError('TEMPLATE', `Template store entry ${stored.path} ${problem}: it may have changed after it was verified, so it is not used.`, {
      hint: `Remove it (rm ${stored.path}*) and run the command again to download it afresh.`,
      detail: {path: stored.path},
    })
  }
  return stored
}

/** A repository file source's image and sidecars must resolve inside its root (no symlink out of it). */
/**
 * A repository file source's image and sidecars must resolve inside its root. A symbolic link
 * out of it (a common way to publish an image kept elsewhere) is followed only to a file that
 * everyone on this host may read anyway: a repository cannot copy a private host file (as
 * root: /etc/shadow) into the shared store.
 */
export async function checkFileRoot(template: ResolvedTemplate): Promise<void> {
  if (!template.fileRoot) return
  for (const file of [template.image, template.hashFile, template.metadataFile]) {
    if (!file || !(await presentFile(file))) continue
    if (await realpathWithin(template.fileRoot, file)) continue
    const target = await realpath(file)
    if (await readableByAnyone(target)) {
      log.debug(`template ${template.id}: ${file} is a link out of ${template.fileRoot} to ${target}, which anyone may read`)
      continue
    }
    throw new LagoError(
      'TEMPLATE_REPO',
      `Template ${template.id}: ${file} resolves outside its source root ${template.fileRoot} (to ${target}, which not everyone on this host may read); it is not read.`,
      {
        hint: 'Copy or hard-link the file into the source root.',
        detail: {template: template.id, file, root: template.fileRoot, target},
      },
    )
  }
}

/** Whether `file` exists: only ENOENT means no; any other error names the file and its errno. */
async function presentFile(file: string): Promise<boolean> {
  try {
    await stat(file)
    return true
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT') return false
    throw new LagoError('TEMPLATE_REPO', `Cannot read ${file}: ${code ?? errorMessage(error)}.`, {detail: {file, code}})
  }
}

export async function detectFormat(file: string): Promise<ImageFormat> {
  return (await imageInfo(file)).format
}

interface ImageInfo {
  format: ImageFormat
  backingFile?: string
  dataFile?: string
}

async function imageInfo(file: string): Promise<ImageInfo> {
  // No backing file is opened to read the header: a hostile image cannot make qemu-img read one.
  const info = await localImages.info(file, {subject: `Template image ${file}`, code: 'TEMPLATE', userError: true})
  const format = info.format
  if (format !== 'qcow2' && format !== 'raw') {
    throw new LagoError('TEMPLATE', `Template image ${file} is in format "${format}"; Lago stores qcow2 or raw images.`, {
      hint: 'Convert it first: qemu-img convert -O qcow2 IMAGE OUT.qcow2',
    })
  }
  return {format, backingFile: info.backingFile, dataFile: info.dataFile}
}

/** The format of a downloaded image, refused when it would make qemu read another file of the host. */
export async function checkImage(file: string, template: ResolvedTemplate): Promise<ImageFormat> {
  const info = await imageInfo(file)
  const outside = info.backingFile ? `a backing file (${info.backingFile})` : info.dataFile ? `an external data file (${info.dataFile})` : undefined
  if (outside) {
    throw new LagoError('TEMPLATE', `Template ${template.id}: ${template.image} names ${outside}; a template must be self-contained and was not stored.`, {
      hint: 'Flatten it first: qemu-img convert -O qcow2 IMAGE FLAT.qcow2',
      detail: {template: template.id, image: template.image, backingFile: info.backingFile, dataFile: info.dataFile},
    })
  }
  // qemu-img calls any file "raw": a disk image is whole 512-byte sectors; /etc/shadow is not.
  const size = (await stat(file)).size
  if (info.format === 'raw' && (size === 0 || size % 512 !== 0)) {
    throw new LagoError('TEMPLATE', `Template ${template.id}: ${template.image} is not a disk image (${size} bytes, not whole 512-byte sectors); it was not stored.`, {
      detail: {template: template.id, image: template.image, size},
    })
  }
  return info.format
}
