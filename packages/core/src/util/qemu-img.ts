import {LagoError} from '../errors.js'
import {CommandFailedError, run} from './exec.js'

/** qemu-img with the disk named in its failure (a LagoError, never a bare command failure). */
export async function qemuImgFor(disk: string, args: string[]): Promise<void> {
  try {
    await run('qemu-img', args)
  } catch (error) {
    const why =
      error instanceof CommandFailedError
        ? error.output.trim().split('\n').pop()
        : (error as NodeJS.ErrnoException).code === 'ENOENT'
          ? 'qemu-img is not installed'
          : String(error)
    throw new LagoError('INIT_FILE', `${disk}: qemu-img could not create the disk: ${why}`, {detail: {disk, args}})
  }
}
