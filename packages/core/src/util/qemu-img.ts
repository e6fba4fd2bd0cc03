import {LagoError, type LagoErrorCode} from '../errors.js'
import {CommandFailedError, run} from './exec.js'

export interface QemuImgOptions {
  /** Default VM: a runtime failure (exit 1); init passes INIT_FILE (the user's disk, exit 2). */
  code?: LagoErrorCode
  userError?: boolean
  signal?: AbortSignal
}

/**
 * qemu-img with `subject` (the disk or image it works on) named in its failure: a LagoError,
 * never a bare command failure. Returns its standard output.
 */
export async function qemuImg(subject: string, args: string[], options: QemuImgOptions = {}): Promise<string> {
  try {
    return (await run('qemu-img', args, {signal: options.signal})).stdout
  } catch (error) {
    if (options.signal?.aborted) throw error
    const why = error instanceof CommandFailedError ? error.output.trim().split('\n').pop() : (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'qemu-img is not installed' : String(error)
    throw new LagoError(options.code ?? 'VM', `${subject}: qemu-img ${args[0]} failed: ${why}`, {
      userError: options.userError ?? options.code === 'INIT_FILE',
      detail: {subject, args},
    })
  }
}

/** What `qemu-img info` says of an image (no backing file is opened: without --backing-chain it reads none). */
export interface QemuImageInfo {
  format: string
  'backing-filename'?: string
  'format-specific'?: {data?: {'data-file'?: string}}
}

export async function qemuImageInfo(subject: string, file: string, options: QemuImgOptions = {}): Promise<QemuImageInfo> {
  return JSON.parse(await qemuImg(subject, ['info', '--output=json', file], options)) as QemuImageInfo
}
