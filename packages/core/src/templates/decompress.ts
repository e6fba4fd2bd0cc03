import {spawn} from 'node:child_process'
import {Duplex, PassThrough, type Readable} from 'node:stream'
import {LagoError} from '../errors.js'

export type Compression = 'xz' | 'gzip'

/** The compression a stream starts with, by its magic bytes (file names lie; magic does not). */
export function detectCompression(head: Buffer): Compression | undefined {
  if (head.length >= 6 && head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz'
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip'
  return undefined
}

/** Resolves with the first `n` bytes of `stream` (fewer at its end) and puts them back. */
export async function peek(stream: Readable, n: number): Promise<Buffer> {
  const chunks: Buffer[] = []
  let length = 0
  for await (const chunk of stream.iterator({destroyOnReturn: false})) {
    chunks.push(chunk as Buffer)
    length += (chunk as Buffer).length
    if (length >= n) break
  }
  const head = Buffer.concat(chunks)
  if (head.length > 0) stream.unshift(head)
  return head.subarray(0, n)
}

/**
 * A decompressing stream. gzip is Node's zlib; xz is the `xz` program (argument array,
 * multi-threaded), which every Linux host has and which outruns the WebAssembly and pure-JS
 * ports on npm; native addons are not an option for a noarch package.
 */
export async function decompressor(kind: Compression, origin: string): Promise<Duplex> {
  if (kind === 'gzip') {
    const zlib = await import('node:zlib')
    return zlib.createGunzip({chunkSize: 256 * 1024})
  }
  const child = spawn('xz', ['--decompress', '--stdout', '--threads=0', '--quiet'], {stdio: ['pipe', 'pipe', 'pipe']})
  const output = new PassThrough({highWaterMark: 1024 * 1024})
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  child.stdout.pipe(output, {end: false})
  const fail = (message: string) =>
    output.destroy(new LagoError('TEMPLATE', `Cannot decompress ${origin} (xz): ${message}.`, {hint: 'The download was discarded; the image on the server may be damaged.'}))
  child.on('error', (error: NodeJS.ErrnoException) => fail(error.code === 'ENOENT' ? 'the xz program is not installed (apt-get install xz-utils / dnf install xz)' : error.message))
  child.on('close', (code) => (code === 0 ? output.end() : fail(stderr.trim().replace(/^xz: \(stdin\): /, '') || `exit ${code}`)))
  child.stdin.on('error', () => undefined) // EPIPE when xz gave up: its exit status tells why
  const duplex = Duplex.from({writable: child.stdin, readable: output})
  duplex.on('close', () => child.exitCode === null && child.kill())
  return duplex
}
