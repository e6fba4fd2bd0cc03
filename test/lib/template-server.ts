import {createReadStream} from 'node:fs'
import {stat} from 'node:fs/promises'
import http from 'node:http'
import type {AddressInfo} from 'node:net'

/** How the server misbehaves for one path (tests of resume, corruption, racing). */
export interface Fault {
  /** Cut the connection after this many body bytes, for the first `times` responses (default 1). */
  cutAfter?: number
  times?: number
  /** Flip one byte at this offset of the body. */
  corruptAt?: number
  /** Send at most this many bytes per second. */
  bytesPerSecond?: number
  /** Answer with this status instead. */
  status?: number
}

export interface RequestRecord {
  path: string
  range?: string
  status: number
}

/**
 * A loopback HTTP server for template repositories: serves files from a map of URL path →
 * local file (or inline text), supports Range requests, records every request, and injects
 * faults per path. Listens on 127.0.0.1 only.
 */
export class TemplateServer {
  readonly requests: RequestRecord[] = []
  readonly faults = new Map<string, Fault>()
  private readonly files = new Map<string, {file?: string; text?: string}>()
  private server?: http.Server
  private port = 0

  get url(): string {
    return `http://127.0.0.1:${this.port}`
  }

  serveFile(urlPath: string, file: string): void {
    this.files.set(urlPath, {file})
  }

  serveText(urlPath: string, text: string): void {
    this.files.set(urlPath, {text})
  }

  /** GET requests for a path (optionally only those with a Range header). */
  gets(urlPath: string): RequestRecord[] {
    return this.requests.filter((r) => r.path === urlPath)
  }

  async start(port = 0): Promise<void> {
    this.server = http.createServer((req, res) => void this.handle(req, res))
    await new Promise<void>((resolve) => this.server!.listen(port || this.port, '127.0.0.1', resolve))
    this.port = (this.server.address() as AddressInfo).port
  }

  async stop(): Promise<void> {
    if (!this.server) return
    this.server.closeAllConnections()
    await new Promise<void>((resolve) => this.server!.close(() => resolve()))
    this.server = undefined
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const urlPath = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)
    const entry = this.files.get(urlPath)
    const fault = this.faults.get(urlPath)
    const record: RequestRecord = {path: urlPath, range: req.headers.range, status: 200}
    this.requests.push(record)
    if (fault?.status) {
      record.status = fault.status
      res.writeHead(fault.status).end()
      return
    }
    if (!entry) {
      record.status = 404
      res.writeHead(404).end('not found')
      return
    }
    const data = entry.text === undefined ? undefined : Buffer.from(entry.text)
    const size = data ? data.length : (await stat(entry.file!)).size
    const etag = `"${size}"`
    let start = 0
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '')
    if (range && (!req.headers['if-range'] || req.headers['if-range'] === etag)) {
      start = Number(range[1])
      record.status = 206
      res.writeHead(206, {'content-length': size - start, 'content-range': `bytes ${start}-${size - 1}/${size}`, etag, 'accept-ranges': 'bytes'})
    } else {
      res.writeHead(200, {'content-length': size, etag, 'accept-ranges': 'bytes'})
    }
    const cut = fault?.cutAfter !== undefined && (fault.times ?? 1) > 0 ? fault.cutAfter : undefined
    if (cut !== undefined) fault!.times = (fault!.times ?? 1) - 1
    const body = data ? [data.subarray(start)] : createReadStream(entry.file!, {start, highWaterMark: 64 * 1024})
    let offset = start
    for await (const chunk of body) {
      let piece = chunk as Buffer
      if (fault?.corruptAt !== undefined && fault.corruptAt >= offset && fault.corruptAt < offset + piece.length) {
        piece = Buffer.from(piece)
        piece[fault.corruptAt - offset] ^= 0xff
      }
      if (cut !== undefined && offset + piece.length > cut) {
        res.write(piece.subarray(0, Math.max(0, cut - offset)))
        await new Promise((resolve) => setTimeout(resolve, 50))
        res.socket?.destroy()
        return
      }
      offset += piece.length
      if (!res.write(piece)) await new Promise((resolve) => res.once('drain', resolve))
      if (fault?.bytesPerSecond) await new Promise((resolve) => setTimeout(resolve, (piece.length / fault.bytesPerSecond!) * 1000))
      if (res.destroyed) return
    }
    res.end()
  }
}
