import {LagoError} from '../errors.js'
import {CommandFailedError, run} from '../util/exec.js'
import type {ImageInfo, ImageOptions} from './provider.js'

/**
 * qemu-img with the subject (the disk or image it works on) named in its failure: a LagoError,
 * never a bare command failure. Returns its standard output. `command` runs it elsewhere
 * (a remote provider passes ssh and its arguments); default: here.
 */
export async function qemuImg(args: string[], options: ImageOptions, command: string[] = ['qemu-img']): Promise<string> {
  try {
    return (await run(command[0], [...command.slice(1), ...args], {signal: options.signal})).stdout
  } catch (error) {
    if (options.signal?.aborted) throw error
    const why = error instanceof CommandFailedError ? error.output.trim().split('\n').pop() : (error as NodeJS.ErrnoException).code === 'ENOENT' ? `${command[0]} is not installed` : String(error)
    throw new LagoError(options.code ?? 'VM', `${options.subject}: qemu-img ${args[0]} failed: ${why}`, {
      userError: options.userError ?? options.code === 'INIT_FILE',
      detail: {subject: options.subject, args},
    })
  }
}

/** `qemu-img info --output=json` as Lago reads it; the one place its JSON is parsed. */
export function parseImageInfo(json: string): ImageInfo {
  const info = JSON.parse(json) as {format: string; 'virtual-size'?: number; 'backing-filename'?: string; 'format-specific'?: {data?: {'data-file'?: string}}}
  return {format: info.format, virtualSize: info['virtual-size'], backingFile: info['backing-filename'], dataFile: info['format-specific']?.data?.['data-file']}
}

/** The qemu-img arguments of each image operation (shared by every provider that runs qemu-img). */
export const qemuImgArgs = {
  // Without --backing-chain qemu-img opens no backing file: a hostile image cannot make it read one.
  info: (file: string) => ['info', '--output=json', file],
  createOverlay: (file: string, backing: {path: string; format: string}, lazyRefcounts: boolean) => [
    'create',
    '-q',
    '-f',
    'qcow2',
    ...(lazyRefcounts ? ['-o', 'lazy_refcounts=on'] : []),
    '-F',
    backing.format,
    '-b',
    backing.path,
    file,
  ],
  createEmpty: (file: string, sizeBytes: number) => ['create', '-q', '-f', 'qcow2', '-o', 'lazy_refcounts=on', file, String(sizeBytes)],
  convert: (source: string, target: string, backing?: {path: string; format: string}) => ['convert', '-O', 'qcow2', ...(backing ? ['-B', backing.path, '-F', backing.format] : []), source, target],
  rebaseUnsafe: (file: string, backing: {path: string; format: string}) => ['rebase', '-u', '-b', backing.path, '-F', backing.format, file],
}
