import {open} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'

/**
 * Where libvirt's qemu driver writes a domain's qemu log (the emulator's stderr: aborts,
 * "KVM internal error"), when this process can read it: local URIs only.
 */
export function qemuLogFile(uri: string, domain: string): string | undefined {
  if (/^qemu(\+unix)?:\/\/\/system/.test(uri)) return path.join('/var/log/libvirt/qemu', `${domain}.log`)
  if (/^qemu(\+unix)?:\/\/\/session/.test(uri)) {
    const cache = process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache')
    return path.join(cache, 'libvirt/qemu/log', `${domain}.log`)
  }
  return undefined
}

/** The text of `file` from byte `offset` on (at most the last 64 KiB); '' when absent. */
export async function readFrom(file: string, offset: number): Promise<string> {
  let handle
  try {
    handle = await open(file, 'r')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return ''
    throw error
  }
  try {
    const {size} = await handle.stat()
    const start = Math.max(offset > size ? 0 : offset, size - 64 * 1024)
    const buffer = Buffer.alloc(size - start)
    await handle.read(buffer, 0, buffer.length, start)
    return buffer.toString('utf8')
  } finally {
    await handle.close()
  }
}
