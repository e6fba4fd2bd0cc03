import assert from 'node:assert/strict'
import {createReadStream} from 'node:fs'
import {readdir, readFile, writeFile} from 'node:fs/promises'
import http from 'node:http'
import type {AddressInfo} from 'node:net'
import path from 'node:path'
import {guestImage, libvirtObjectsOf, ONE_VM_INIT_FILE, Sandbox, virsh} from '../lib/harness.js'

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** Ctrl-C (or SIGTERM) mid-way: what was made is removed and the exit code is 128+N. */
describe('interrupted init and start roll back', function () {
  let sandbox: Sandbox
  let server: http.Server

  before(async () => {
    sandbox = await Sandbox.create('interrupt')
    // A loopback template server that trickles the image out, so init is still downloading when interrupted.
    server = http.createServer((req, res) => {
      if (req.url !== '/tiny.qcow2') {
        res.writeHead(404).end()
        return
      }
      res.writeHead(200, {'content-type': 'application/octet-stream'})
      const stream = createReadStream(guestImage(), {highWaterMark: 64 * 1024})
      stream.on('data', (chunk) => {
        stream.pause()
        res.write(chunk, () => setTimeout(() => stream.resume(), 50))
      })
      stream.on('end', () => res.end())
      res.on('close', () => stream.destroy())
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  })

  after(async () => {
    server.closeAllConnections()
    server.close()
    await sandbox.remove()
  })

  it('SIGINT during init (template download) exits 130 and leaves no prefix, lease or partial file', async () => {
    const port = (server.address() as AddressInfo).port
    const repo = path.join(sandbox.dir, 'http-repo.json')
    await writeFile(
      repo,
      JSON.stringify({
        name: 'slow',
        sources: {web: {type: 'http', args: {baseurl: `http://127.0.0.1:${port}/`}}},
        templates: {tiny: {versions: {v1: {source: 'web', handle: 'tiny.qcow2', timestamp: 1}}}},
      }),
    )
    const initFile = await sandbox.writeInitFile('LagoInitFile', ONE_VM_INIT_FILE)
    const prefix = path.join(sandbox.dir, 'env')
    const child = sandbox.lago(['init', prefix, initFile, '--template-repo-path', repo, '--allow-unverified'])
    await waitFor('the download to start', async () => (await readdir(sandbox.store).catch(() => [] as string[])).some((n) => n.endsWith('.part')))
    const childProcess = child as unknown as {kill(signal: string): boolean}
    childProcess.kill('SIGINT')
    const result = await child
    assert.equal(result.exitCode, 130, String(result.all))
    assert.match(String(result.stderr), /Interrupted by SIGINT; what was started has been rolled back\./)
    await assert.rejects(readdir(prefix), /ENOENT/)
    assert.deepEqual(await sandbox.leaseFiles(), [])
    assert.deepEqual(await readdir(sandbox.store), [], 'no partial download or lock left in the store')
  })

  it('SIGTERM while VMs boot exits 143, removes the domain and network, and cleanup still works', async () => {
    const repo = await sandbox.templateRepo()
    const initFile = await sandbox.writeInitFile('LagoInitFile2', ONE_VM_INIT_FILE)
    const prefix = path.join(sandbox.dir, 'env2')
    const init = await sandbox.lago(['init', prefix, initFile, '--template-repo-path', repo])
    assert.equal(init.exitCode, 0, String(init.all))
    const id = JSON.parse(await readFile(path.join(prefix, '.lago/state.json'), 'utf8')).id as string
    const child = sandbox.lago(['start'], {cwd: prefix})
    await waitFor('the domain to exist', async () => (await virsh(['list', '--name'])).includes(id))
    ;(child as unknown as {kill(signal: string): boolean}).kill('SIGTERM')
    const result = await child
    assert.equal(result.exitCode, 143, String(result.all))
    assert.deepEqual(await libvirtObjectsOf(id), [])
    const cleanup = await sandbox.lago(['cleanup'], {cwd: prefix})
    assert.equal(cleanup.exitCode, 0, String(cleanup.all))
    assert.deepEqual(await sandbox.leaseFiles(), [])
  })
})
