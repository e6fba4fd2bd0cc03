import type {IncomingMessage} from 'node:http'
import {Readable} from 'node:stream'
import {finished} from 'node:stream/promises'
import {LagoError, errorMessage} from '../errors.js'
import {log} from '../log.js'
import {abortReason, sleep} from '../util/abort.js'

export interface RetryPolicy {
  /** Attempts in a row that may fail (no byte gained) before giving up. */
  retries: number
  /** First wait before a retry; doubles each time, up to 30 s. */
  backoffMs: number
  /** A connection that brings no byte for this long is dropped and resumed. */
  stallMs: number
}

export const DEFAULT_RETRY: RetryPolicy = {retries: 5, backoffMs: 1000, stallMs: 30_000}

export interface HttpBodyOptions {
  signal?: AbortSignal
  retry?: RetryPolicy
  /** A retry is about to happen (connection dropped, server error): for progress lines. */
  onRetry?: (info: {attempt: number; offset: number; delayMs: number; reason: string}) => void
}

export interface HttpBody {
  body: Readable
  /** Content length, when the server says. */
  total?: number
  /**
   * Whether the end of the body can be told from a cut connection (a length, or chunked
   * encoding). A body delimited only by the connection closing may be short without a sign.
   */
  framed: boolean
}

interface Response {
  message: IncomingMessage
  status: number
}

function getOnce(url: string, headers: Record<string, string>, stallMs: number, signal?: AbortSignal): Promise<Response> {
  return new Promise((resolve, reject) => {
    void import(url.startsWith('https:') ? 'node:https' : 'node:http').then((http) => {
      const request = http.get(url, {headers: {'user-agent': 'lago', ...headers}, signal}, (message: IncomingMessage) => resolve({message, status: message.statusCode ?? 0}))
      request.setTimeout(stallMs, () => request.destroy(Object.assign(new Error(`no data for ${stallMs / 1000} s`), {code: 'ETIMEDOUT'})))
      request.on('error', reject)
    }, reject)
  })
}

/** Redirects followed per request, at most. */
export const MAX_REDIRECTS = 5
const REDIRECTS = new Set([301, 302, 303, 307, 308])

/**
 * GET `url`, following up to MAX_REDIRECTS redirects, each only to https or to the origin it
 * came from (a repository cannot send Lago to a plain-http host of its choosing, or to file:).
 */
async function get(url: string, headers: Record<string, string>, stallMs: number, signal?: AbortSignal): Promise<Response> {
  let current = url
  for (let hop = 0; ; hop++) {
    const response = await getOnce(current, headers, stallMs, signal)
    if (!REDIRECTS.has(response.status)) return response
    response.message.resume()
    const location = response.message.headers.location
    const next = location ? new URL(location, current) : undefined
    if (!next || hop >= MAX_REDIRECTS || !(next.protocol === 'https:' || next.origin === new URL(current).origin)) {
      const why = !next ? 'a redirect without a Location' : hop >= MAX_REDIRECTS ? `more than ${MAX_REDIRECTS} redirects` : `a redirect to ${next.href}, which is neither https nor the same origin`
      throw new LagoError('TEMPLATE', `Cannot download ${url}: the server answered with ${why}.`, {
        hint: 'Redirects are followed only to https or within the same origin; point the repository at the final URL.',
        detail: {url, location},
      })
    }
    current = next.href
  }
}

/** Statuses worth retrying: the server may recover; anything else 4xx/5xx is final. */
const TRANSIENT = new Set([408, 425, 429, 500, 502, 503, 504])

export function httpError(url: string, status: number, statusText = ''): LagoError {
  return new LagoError('TEMPLATE', `Cannot download ${url}: HTTP ${status}${statusText ? ` ${statusText}` : ''}.`, {
    hint: status === 404 ? 'The repository names a file the server does not have: check the source baseurl and handle.' : undefined,
    detail: {url, status},
  })
}

function describeNetworkError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code
  const known: Record<string, string> = {
    ECONNREFUSED: 'connection refused',
    ECONNRESET: 'connection reset',
    ENOTFOUND: 'host not found',
    EAI_AGAIN: 'host name lookup failed',
    ETIMEDOUT: 'timed out',
    EHOSTUNREACH: 'host unreachable',
    ENETUNREACH: 'network unreachable',
  }
  return code && known[code] ? `${known[code]} (${code})` : errorMessage(error)
}

/**
 * The body of `url` as one stream, whatever happens underneath: a dropped or stalled
 * connection is resumed with a Range request (If-Range keeps it the same file), failures
 * are retried with exponential backoff, and the stream fails only when the retries run out.
 * Consumers (decompression, hashing, the file) never see the seams.
 */
export async function openHttpBody(url: string, options: HttpBodyOptions = {}): Promise<HttpBody> {
  const retry = options.retry ?? DEFAULT_RETRY
  const signal = options.signal
  let offset = 0
  let failures = 0
  let total: number | undefined
  let validator: string | undefined
  let framed = false

  /** Wait before the next attempt, or give up with what went wrong. */
  const failed = async (reason: string): Promise<void> => {
    if (signal?.aborted) throw abortReason(signal)
    failures++
    if (failures > retry.retries) {
      const where = total === undefined ? `after ${offset} bytes` : `at byte ${offset} of ${total}`
      throw new LagoError('TEMPLATE', `Cannot download ${url}: ${reason} (${where}; gave up after ${failures} attempts).`, {
        hint: 'Nothing was stored. Check that the server is reachable, then run the command again.',
        detail: {url, offset, total},
      })
    }
    const delayMs = Math.min(retry.backoffMs * 2 ** (failures - 1), 30_000)
    log.info(`download ${url}: ${reason}; retrying from byte ${offset} in ${delayMs} ms (attempt ${failures + 1})`)
    options.onRetry?.({attempt: failures + 1, offset, delayMs, reason})
    await sleep(delayMs, signal)
  }

  /** One response positioned at `offset`, or undefined after a retryable failure. */
  const open = async (): Promise<IncomingMessage | undefined> => {
    const headers: Record<string, string> = offset > 0 ? {range: `bytes=${offset}-`, ...(validator ? {'if-range': validator} : {})} : {}
    let response: Response
    try {
      response = await get(url, headers, retry.stallMs, signal)
    } catch (error) {
      await failed(describeNetworkError(error))
      return undefined
    }
    const {message, status} = response
    if (status === 200 || status === 206) {
      const range = status === 206 ? /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(message.headers['content-range'] ?? '') : undefined
      if (status === 206 && (!range || Number(range[1]) !== offset)) {
        message.destroy()
        throw new LagoError('TEMPLATE', `Cannot resume ${url}: asked for byte ${offset}, the server answered "${message.headers['content-range']}".`)
      }
      const length = Number(message.headers['content-length'])
      const fullLength = status === 206 ? (range![2] === '*' ? undefined : Number(range![2])) : Number.isFinite(length) && message.headers['content-length'] ? length : undefined
      const nextValidator = message.headers.etag ?? message.headers['last-modified']
      if (offset > 0 && status === 200) {
        // No range support (or the file changed, per If-Range): the same file is re-read from the start and its
        // first `offset` bytes skipped; a different file cannot continue what was already consumed.
        if (validator && nextValidator !== validator) {
          message.destroy()
          throw new LagoError('TEMPLATE', `${url} changed on the server during the download; run the command again.`)
        }
        log.info(`download ${url}: the server ignores Range requests; re-reading the first ${offset} bytes`)
        await skip(message, offset)
      }
      if (total === undefined) total = fullLength
      framed ||= total !== undefined || /chunked/i.test(String(message.headers['transfer-encoding'] ?? ''))
      validator ??= nextValidator
      return message
    }
    message.resume()
    if (TRANSIENT.has(status)) {
      await failed(`HTTP ${status} ${message.statusMessage ?? ''}`.trim())
      return undefined
    }
    throw httpError(url, status, message.statusMessage)
  }

  const first = await (async () => {
    for (;;) {
      const message = await open()
      if (message) return message
    }
  })()

  // A plain push stream (no async iteration per chunk: this is the hot path of a multi-GiB download).
  let current: IncomingMessage | undefined
  const body = new Readable({
    highWaterMark: 1024 * 1024,
    read() {
      current?.resume()
    },
    destroy(error, callback) {
      current?.destroy()
      current = undefined
      callback(error)
    },
  })
  const pump = (message: IncomingMessage): Promise<void> => {
    current = message
    message.on('data', (chunk: Buffer) => {
      offset += chunk.length
      failures = 0
      if (!body.push(chunk)) message.pause()
    })
    return finished(message).finally(() => message.destroy())
  }
  const drive = async (): Promise<void> => {
    let message: IncomingMessage | undefined = first
    for (;;) {
      if (message) {
        try {
          await pump(message)
          if (total === undefined || offset >= total) return
          await failed('the connection closed early')
        } catch (error) {
          if (body.destroyed) return
          if (signal?.aborted) throw abortReason(signal)
          if (error instanceof LagoError) throw error
          await failed(describeNetworkError(error))
        }
      }
      if (body.destroyed) return
      message = await open()
    }
  }
  drive().then(
    () => body.push(null),
    (error: unknown) => body.destroy(error as Error),
  )
  return {body, total, framed}
}

async function skip(stream: IncomingMessage, bytes: number): Promise<void> {
  let left = bytes
  for await (const chunk of stream.iterator({destroyOnReturn: false})) {
    const buffer = chunk as Buffer
    if (buffer.length <= left) {
      left -= buffer.length
      if (left === 0) return
      continue
    }
    stream.unshift(buffer.subarray(left))
    return
  }
  throw Object.assign(new Error('the connection closed early'), {code: 'ECONNRESET'})
}

/** The most a small file (repository JSON, `.hash`, `.metadata`) may hold. */
const MAX_TEXT_BYTES = 16 * 1024 * 1024

/** A small text file (repository JSON, `.hash`, `.metadata`): undefined on 404, an error naming the status otherwise. */
export async function getText(url: string, options: {signal?: AbortSignal; retry?: RetryPolicy; optional?: boolean} = {}): Promise<string | undefined> {
  const retry = options.retry ?? DEFAULT_RETRY
  for (let attempt = 0; ; attempt++) {
    try {
      const {message, status} = await get(url, {}, retry.stallMs, options.signal)
      if (status === 200) {
        const chunks: Buffer[] = []
        let length = 0
        for await (const chunk of message) {
          chunks.push(chunk as Buffer)
          length += (chunk as Buffer).length
          if (length > MAX_TEXT_BYTES) {
            message.destroy()
            throw new LagoError('TEMPLATE', `${url} is larger than ${MAX_TEXT_BYTES / 1024 / 1024} MiB: not a repository, hash or metadata file.`, {detail: {url}})
          }
        }
        return Buffer.concat(chunks).toString('utf8')
      }
      message.resume()
      if (options.optional && (status === 404 || status === 410)) return undefined
      if (!TRANSIENT.has(status) || attempt >= retry.retries) throw httpError(url, status, message.statusMessage)
    } catch (error) {
      if (error instanceof LagoError) throw error
      if (options.signal?.aborted) throw abortReason(options.signal)
      if (attempt >= retry.retries) {
        throw new LagoError('TEMPLATE', `Cannot download ${url}: ${describeNetworkError(error)}.`, {detail: {url, code: (error as NodeJS.ErrnoException).code}})
      }
    }
    await sleep(Math.min(retry.backoffMs * 2 ** attempt, 30_000), options.signal)
  }
}
