import {createHash} from 'node:crypto'
import {createReadStream, createWriteStream} from 'node:fs'
import {rm, stat} from 'node:fs/promises'
import {Transform, type Readable} from 'node:stream'
import {pipeline} from 'node:stream/promises'
import {LagoError} from '../errors.js'
import {abortReason} from '../util/abort.js'
import type {ProgressUpdate} from '../util/progress.js'
import {detectCompression, decompressor, peek, type Compression} from './decompress.js'
import type {Digest, DigestAlgorithm} from './digest.js'
import {openHttpBody, type RetryPolicy} from './http.js'
import {isUrl} from './location.js'

export interface DownloadOptions {
  /** Verify against this digest; without it the stored image's sha256 is only recorded. */
  expected?: Digest
  signal?: AbortSignal
  retry?: RetryPolicy
  /** Bytes read from the source (compressed bytes for a compressed image). */
  onProgress?: (progress: ProgressUpdate) => void
  onRetry?: (info: {attempt: number; offset: number; delayMs: number; reason: string}) => void
}

export interface DownloadResult {
  /** Digest of the file as written (decompressed). */
  digest: Digest
  /** Bytes written. */
  size: number
  /** Bytes read from the source. */
  sourceSize: number
  compression?: Compression
}

/**
 * Copy `location` (http(s) URL or local path) to `target`, decompressing xz/gzip on the way,
 * hashing in the same pass, and verifying against `expected` (which may be the digest of the
 * compressed or of the decompressed bytes, as repositories publish either). On any failure the
 * target is removed: a truncated or corrupt body never stays behind.
 */
export async function download(location: string, target: string, options: DownloadOptions = {}): Promise<DownloadResult> {
  const algorithm: DigestAlgorithm = options.expected?.algorithm ?? 'sha256'
  try {
    const {body, total, framed} = await openSource(location, options)
    if (!framed && !options.expected) {
      body.destroy()
      throw new LagoError('TEMPLATE', `Cannot download ${location}: the server sends no length and there is no checksum, so a cut-off download could not be told from a complete one.`, {
        hint: 'Publish a .hash file next to the image (or give template_checksum), or serve it with a Content-Length.',
        detail: {url: location},
      })
    }
    const compression = detectCompression(await peek(body, 6))
    // Hashed inline: a worker thread would need a copy of every byte, which costs more than it saves on a busy host.
    const imageHash = createHash(algorithm)
    const sourceHash = compression && options.expected ? createHash(algorithm) : undefined
    let sourceBytes = 0
    let size = 0
    const counted = tap((chunk) => {
      sourceBytes += chunk.length
      sourceHash?.update(chunk)
      options.onProgress?.({done: sourceBytes, total})
    })
    const hashed = tap((chunk) => {
      size += chunk.length
      imageHash.update(chunk)
    })
    // Created exclusively and private to this process: the bytes hashed are the bytes on disk.
    const out = createWriteStream(target, {flags: 'wx', mode: 0o600, flush: true, highWaterMark: 8 * 1024 * 1024})
    const stages = compression ? [counted, await decompressor(compression, location), hashed] : [tap((chunk) => (counted.hook(chunk), hashed.hook(chunk)))]
    await pipeline([body, ...stages, out], {signal: options.signal})
    const digest = {algorithm, hex: imageHash.digest('hex')}
    if (total !== undefined && sourceBytes !== total) {
      throw new LagoError('TEMPLATE', `Download of ${location} was truncated: ${sourceBytes} of ${total} bytes.`, {detail: {url: location, bytes: sourceBytes, total}})
    }
    if (options.expected) verify(location, options.expected, digest, sourceHash?.digest('hex'))
    return {digest, size, sourceSize: sourceBytes, compression}
  } catch (error) {
    await rm(target, {force: true})
    // The stream only says "aborted": the signal's reason says why (a signal, a lost store lock).
    throw options.signal?.aborted ? abortReason(options.signal) : error
  }
}

function verify(location: string, expected: Digest, image: Digest, sourceHex?: string): void {
  if (expected.hex === image.hex || expected.hex === sourceHex) return
  throw new LagoError('TEMPLATE', `${location} failed verification: expected ${expected.algorithm} ${expected.hex}, got ${image.hex}${sourceHex ? ` (compressed: ${sourceHex})` : ''}.`, {
    hint: 'The download was discarded and nothing was stored. Run the command again; if it fails the same way, the image or its checksum on the server is wrong.',
    detail: {url: location, algorithm: expected.algorithm, expected: expected.hex, actual: image.hex, ...(sourceHex ? {actualCompressed: sourceHex} : {})},
  })
}

type Tap = Transform & {hook: (chunk: Buffer) => void}

/** A pass-through stream that shows every chunk to `hook` on the way. */
function tap(hook: (chunk: Buffer) => void): Tap {
  const stream = new Transform({
    highWaterMark: 1024 * 1024,
    transform(chunk: Buffer, _encoding, done) {
      hook(chunk)
      done(null, chunk)
    },
  }) as Tap
  stream.hook = hook
  return stream
}

async function openSource(location: string, options: DownloadOptions): Promise<{body: Readable; total?: number; framed: boolean}> {
  if (isUrl(location)) return openHttpBody(location, {signal: options.signal, retry: options.retry, onRetry: options.onRetry})
  const path = location.replace(/^file:\/\//, '')
  let info: Awaited<ReturnType<typeof stat>>
  try {
    info = await stat(path)
  } catch (error) {
    throw new LagoError('TEMPLATE', `Template image ${path} cannot be read (${(error as NodeJS.ErrnoException).code}).`, {detail: {path}})
  }
  // A device (/dev/sda, /dev/zero) would be read whole, or forever.
  if (!info.isFile()) throw new LagoError('TEMPLATE', `Template image ${path} is not a regular file.`, {detail: {path}})
  return {body: createReadStream(path, {highWaterMark: 1024 * 1024}), total: info.size, framed: true}
}
