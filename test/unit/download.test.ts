import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import {execFileSync} from 'node:child_process'
import {mkdtemp, readdir, readFile, rm, writeFile} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import {gzipSync} from 'node:zlib'
import {formatTransfer, isLagoError, parseDigest, ProgressMeter} from '@lago/core'
import {download} from '../../packages/core/src/templates/download.js'
import {TemplateServer} from '../lib/template-server.js'

const FAST_RETRY = {retries: 3, backoffMs: 20, stallMs: 2000}
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex')

describe('template downloads (loopback HTTP)', () => {
  let dir: string
  let server: TemplateServer
  let body: Buffer

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'lago-download-'))
    body = Buffer.alloc(3 * 1024 * 1024 + 123)
    for (let i = 0; i + 4 <= body.length; i += 4) body.writeUInt32LE((i * 2654435761) >>> 0, i)
    await writeFile(path.join(dir, 'image.raw'), body)
    await writeFile(path.join(dir, 'image.raw.gz'), gzipSync(body))
    execFileSync('xz', ['-k', '-T1', '-0', path.join(dir, 'image.raw')])
    server = new TemplateServer()
    for (const name of ['image.raw', 'image.raw.gz', 'image.raw.xz']) server.serveFile(`/${name}`, path.join(dir, name))
    await server.start()
  })

  after(async () => {
    await server.stop()
    await rm(dir, {recursive: true, force: true})
  })

  beforeEach(() => {
    server.requests.length = 0
    server.faults.clear()
  })

  const target = () => path.join(dir, `out-${Math.random().toString(16).slice(2)}`)

  it('streams, hashes in the same pass and verifies a sha256', async () => {
    const out = target()
    const progress: number[] = []
    const result = await download(`${server.url}/image.raw`, out, {expected: {algorithm: 'sha256', hex: sha256(body)}, onProgress: (p) => progress.push(p.done)})
    assert.equal(result.digest.hex, sha256(body))
    assert.equal(result.size, body.length)
    assert.ok((await readFile(out)).equals(body))
    assert.equal(progress.at(-1), body.length)
    assert.equal(server.gets('/image.raw').length, 1)
  })

  it('resumes with a Range request after the server cuts the connection mid-body', async () => {
    server.faults.set('/image.raw', {cutAfter: 1_000_000, times: 2})
    const out = target()
    const retries: number[] = []
    const result = await download(`${server.url}/image.raw`, out, {expected: {algorithm: 'sha256', hex: sha256(body)}, retry: FAST_RETRY, onRetry: (r) => retries.push(r.offset)})
    assert.equal(result.digest.hex, sha256(body))
    const gets = server.gets('/image.raw')
    assert.equal(gets.length, 3)
    assert.equal(gets[0].range, undefined)
    assert.equal(gets[1].range, 'bytes=1000000-')
    assert.equal(gets[1].status, 206)
    assert.deepEqual(retries, [1_000_000, 1_000_000])
    assert.ok((await readFile(out)).equals(body))
  })

  it('gives up after the retries, naming the URL and how far it got; nothing is left', async () => {
    server.faults.set('/image.raw', {cutAfter: 0, times: 10})
    const out = target()
    await assert.rejects(download(`${server.url}/image.raw`, out, {retry: FAST_RETRY}), (error: unknown) => {
      assert.ok(isLagoError(error))
      assert.match(error.message, new RegExp(`Cannot download ${server.url}/image\\.raw: .*at byte 0 of ${body.length}; gave up after 4 attempts`))
      return true
    })
    assert.deepEqual(
      (await readdir(dir)).filter((n) => n.startsWith('out-') && n === path.basename(out)),
      [],
    )
  })

  it('rejects a corrupt body with the URL, the expected and the actual hash, and removes it', async () => {
    server.faults.set('/image.raw', {corruptAt: 12345})
    const out = target()
    const corrupt = Buffer.from(body)
    corrupt[12345] ^= 0xff
    await assert.rejects(download(`${server.url}/image.raw`, out, {expected: {algorithm: 'sha256', hex: sha256(body)}}), (error: unknown) => {
      assert.ok(isLagoError(error))
      assert.equal(error.message, `${server.url}/image.raw failed verification: expected sha256 ${sha256(body)}, got ${sha256(corrupt)}.`)
      return true
    })
    await assert.rejects(readFile(out), /ENOENT/)
  })

  it('names the URL and the HTTP status of a missing file; retries a 503', async () => {
    await assert.rejects(download(`${server.url}/nope.qcow2`, target()), /Cannot download http:\/\/127\.0\.0\.1:\d+\/nope\.qcow2: HTTP 404 Not Found\./)
    server.faults.set('/image.raw', {status: 503})
    await assert.rejects(download(`${server.url}/image.raw`, target(), {retry: FAST_RETRY}), /HTTP 503 Service Unavailable .*gave up after 4 attempts/)
    assert.equal(server.gets('/image.raw').length, 4)
  })

  it('decompresses .gz and .xz in the stream; the digest of either form verifies', async () => {
    for (const name of ['image.raw.gz', 'image.raw.xz']) {
      const out = target()
      const result = await download(`${server.url}/${name}`, out, {expected: {algorithm: 'sha256', hex: sha256(body)}})
      assert.equal(result.compression, name.endsWith('.gz') ? 'gzip' : 'xz')
      assert.ok((await readFile(out)).equals(body), name)
      const compressed = await readFile(path.join(dir, name))
      await download(`${server.url}/${name}`, target(), {expected: {algorithm: 'sha256', hex: sha256(compressed)}})
    }
  })

  it('resumes a compressed download transparently (the decompressor never sees the seam)', async () => {
    server.faults.set('/image.raw.xz', {cutAfter: 1000, times: 1})
    const out = target()
    const result = await download(`${server.url}/image.raw.xz`, out, {expected: {algorithm: 'sha256', hex: sha256(body)}, retry: FAST_RETRY})
    assert.equal(result.size, body.length)
    assert.equal(server.gets('/image.raw.xz')[1].range, 'bytes=1000-')
  })

  it('reads local files too', async () => {
    const out = target()
    const result = await download(path.join(dir, 'image.raw.gz'), out)
    assert.equal(result.digest.hex, sha256(body))
  })
})

describe('digests and progress', () => {
  it('parses the usual checksum spellings', () => {
    const hex = 'a'.repeat(64)
    for (const text of [hex, `sha256:${hex}`, `${hex}  image.qcow2\n`, `SHA256 (image.qcow2) = ${hex}`, hex.toUpperCase()]) {
      assert.deepEqual(parseDigest(text, 'x'), {algorithm: 'sha256', hex})
    }
    assert.equal(parseDigest('b'.repeat(40), 'x').algorithm, 'sha1')
    assert.throws(() => parseDigest('sha256:abc', 'The hash file H'), /The hash file H holds no sha1, sha256 or sha512 digest: "sha256:abc"/)
  })

  it('computes rate and ETA and formats a bar', () => {
    let now = 0
    const meter = new ProgressMeter(() => now)
    meter.update({done: 0, total: 100 * 1024 * 1024})
    now = 1000
    const snapshot = meter.update({done: 10 * 1024 * 1024, total: 100 * 1024 * 1024})
    assert.equal(snapshot.rate, 10 * 1024 * 1024)
    assert.equal(snapshot.eta, 9)
    assert.equal(formatTransfer(snapshot, {bar: true, width: 10}), '[#---------] 10% 10.0 MiB of 100.0 MiB, 10.0 MiB/s, ETA 9 s')
    assert.equal(formatTransfer({done: 2048}), '2.0 KiB')
  })
})
