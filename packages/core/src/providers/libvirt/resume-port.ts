import {randomBytes} from 'node:crypto'
import {closeSync, constants, openSync, writeSync} from 'node:fs'
import {lstat, mkdir, rm} from 'node:fs/promises'
import net from 'node:net'
import path from 'node:path'
import {clockRequest, RESUME_PORT} from '../../prefix/clock-port.js'
import {errorMessage} from '../../errors.js'
import {log} from '../../log.js'
import {run} from '../../util/exec.js'
import {awaitReply} from '../../util/await-reply.js'
import {unlessAbsent} from '../../util/fs.js'
import {escapeAttribute} from './xml-writer.js'

/**
 * The host side of a domain's resume port (prefix/clock-port.ts): qemu's pipe character
 * device, which reads BASE.in and writes BASE.out, two FIFOs in the prefix. A pipe keeps
 * the port connected while no one on the host holds it, so the guest's waiter blocks in
 * its read instead of seeing the end of the stream (as it would with a unix socket no one
 * has connected to).
 */

/** Make BASE.in and BASE.out FIFOs (qemu cannot start the domain without them); anything else found there is replaced. */
export async function ensureResumeFifos(base: string): Promise<void> {
  const missing: string[] = []
  for (const file of [`${base}.in`, `${base}.out`]) {
    const found = await unlessAbsent(lstat(file), file, 'look at')
    if (found?.isFIFO()) continue
    if (found) await rm(file, {recursive: true, force: true})
    missing.push(file)
  }
  if (missing.length === 0) return
  await mkdir(path.dirname(base), {recursive: true})
  await run('mkfifo', ['-m', '600', '--', ...missing])
}

/** The saved domain XML with its resume port reading `base` (the prefix may have been saved elsewhere); other XML as it is. */
export function withResumePortPath(xml: string, base: string): string {
  return xml.replace(/<channel\b[^>]*>[\s\S]*?<\/channel>/g, (channel) => {
    if (!new RegExp(`<target\\b[^>]*\\bname=(['"])${RESUME_PORT.replaceAll('.', '\\.')}\\1`).test(channel)) return channel
    return channel.replace(/<source\b[^>]*\/>/, `<source path='${escapeAttribute(base)}'/>`)
  })
}

export function hasResumePort(xml: string): boolean {
  return xml.includes(RESUME_PORT)
}

/** At most this much of what the guest writes is read: its words are not trusted. */
const MAX_REPLY_BYTES = 4096

/**
 * Ask the waiter in the guest to set its clock to now; true once it answered with the nonce
 * within `timeoutMs`. False when no waiter answered (or qemu does not hold the FIFOs): the
 * caller sets the clock another way.
 */
export async function setClockThroughFifos(base: string, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
  const nonce = randomBytes(8).toString('hex')
  let reader: net.Socket
  try {
    reader = new net.Socket({fd: openSync(`${base}.out`, constants.O_RDONLY | constants.O_NONBLOCK), readable: true, writable: false})
  } catch (error) {
    log.debug(`resume port: cannot read ${base}.out (${errorMessage(error)})`)
    return false
  }
  try {
    if (!writeRequest(`${base}.in`, clockRequest(nonce, Math.round(Date.now() / 1000)))) return false
    // The reply cannot arrive before awaitReply listens: data events wait for the next turn of the event loop.
    return await awaitReply(reader, (seen) => seen.split('\n').includes(nonce), {maxBytes: MAX_REPLY_BYTES, timeoutMs, signal})
  } finally {
    reader.destroy()
  }
}

/** One short write (atomic on a pipe). Without O_NONBLOCK, opening a FIFO no one reads would wait; with it, ENXIO says qemu is not there. */
function writeRequest(fifo: string, request: string): boolean {
  let fd: number
  try {
    fd = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK)
  } catch (error) {
    log.debug(`resume port: cannot write ${fifo} (${errorMessage(error)})`)
    return false
  }
  try {
    return writeSync(fd, request) === Buffer.byteLength(request)
  } catch (error) {
    log.debug(`resume port: cannot write ${fifo} (${errorMessage(error)})`)
    return false
  } finally {
    closeSync(fd)
  }
}
