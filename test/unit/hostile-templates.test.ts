import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {mkdir, readdir, readFile, symlink, writeFile} from 'node:fs/promises'
import http from 'node:http'
import type {AddressInfo} from 'node:net'
import path from 'node:path'
import {assertCliRefusal, HostileWorld, lagoCli, pool, type CliOutcome} from '../lib/hostile.js'

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void

/** A loopback server whose every path misbehaves its own way. */
class HostileServer {
  readonly routes = new Map<string, Handler>()
  private server?: http.Server

  get url(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`
  }

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      const handler = this.routes.get(new URL(req.url ?? '/', 'http://x').pathname)
      if (handler) handler(req, res)
      else res.writeHead(404).end('not found')
    })
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve))
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections()
    await new Promise<void>((resolve) => this.server?.close(() => resolve()))
  }
}

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex')

interface RepoCase {
  name: string
  /** Makes the case's repository; returns the --template-repo-path value. */
  repo: (dir: string) => Promise<string>
  template?: string
  extraArgs?: string[]
  env?: Record<string, string>
  message: RegExp
  exit?: number
}

function repoJson(source: object, handle: string, names: {template?: string; version?: string; repo?: string} = {}): string {
  return JSON.stringify({
    name: names.repo ?? 'r',
    sources: {s: source},
    templates: {[names.template ?? 't']: {versions: {[names.version ?? 'v1']: {source: 's', handle, timestamp: 1}}}},
  })
}

describe('hostile template repositories, images and HTTP servers: refused, nothing stored, nothing outside touched', function () {
  this.timeout(180_000)
  let world: HostileWorld
  let fingerprint: string
  let server: HostileServer
  let image: Buffer
  const outcomes = new Map<string, CliOutcome>()

  /** A file repository in `dir` holding `handle` (an image with its .hash), with `extra` files made by the case. */
  async function fileRepo(dir: string, handle: string, options: {hash?: boolean; names?: {template?: string; version?: string; repo?: string}; file?: Buffer} = {}): Promise<string> {
    const data = options.file ?? image
    await writeFile(path.join(dir, 'img.qcow2'), data)
    if (options.hash ?? true) await writeFile(path.join(dir, 'img.qcow2.hash'), `${sha256(data)}\n`)
    const file = path.join(dir, 'repo.json')
    await writeFile(file, repoJson({type: 'file', args: {root: dir}}, handle, options.names))
    return file
  }

  /** An http repository served at /<name>/repo.json whose source is /<name>/. */
  function httpRepo(name: string, handle: string, routes: Record<string, Handler>): string {
    const base = `${server.url}/${name}/`
    server.routes.set(`/${name}/repo.json`, (_req, res) => res.writeHead(200, {'content-type': 'application/json'}).end(repoJson({type: 'http', args: {baseurl: base}}, handle)))
    const withHash: Record<string, Handler> = {'img.qcow2.hash': (_req, res) => res.writeHead(200).end(`${sha256(image)}\n`), ...routes}
    for (const [route, handler] of Object.entries(withHash)) server.routes.set(`/${name}/${route}`, handler)
    return `${base}repo.json`
  }

  const CASES: RepoCase[] = [
    {
      name: 'a handle climbing out of a file root',
      repo: (d) => fileRepo(d, '../../sentinel/secret'),
      message: /templates\.t\.versions\.v1\.handle "\.\.\/\.\.\/sentinel\/secret" is not a relative file name/,
    },
    {name: 'an absolute handle (/etc/hostname)', repo: (d) => fileRepo(d, '/etc/hostname'), message: /templates\.t\.versions\.v1\.handle "\/etc\/hostname" is not a relative file name/},
    {name: 'a file:// handle', repo: (d) => fileRepo(d, 'file:///etc/shadow'), message: /handle "file:\/\/\/etc\/shadow" is not a relative file name/},
    {name: 'a handle with .. in the middle', repo: (d) => fileRepo(d, 'a/../../x'), message: /handle "a\/\.\.\/\.\.\/x" is not a relative file name/},
    {name: 'a handle with a backslash', repo: (d) => fileRepo(d, 'a\\..\\x'), message: /handle "a\\\\\.\.\\\\x" is not a relative file name/},
    {name: 'a handle with a newline', repo: (d) => fileRepo(d, 'img.qcow2\n'), message: /handle "img\.qcow2\\n" is not a relative file name/},
    {name: 'a protocol-relative handle (another host)', repo: async () => httpRepo('protocol-relative', '//evil.example/x', {}), message: /handle "\/\/evil\.example\/x" is not a relative file name/},
    {name: 'an http handle naming another host', repo: async () => httpRepo('other-host', 'http://127.0.0.2/x', {}), message: /handle "http:\/\/127\.0\.0\.2\/x" is not a relative file name/},
    {name: 'a template named ../x', repo: (d) => fileRepo(d, 'img.qcow2', {names: {template: '../x'}}), template: 'r:../x:v1', message: /templates\["\.\.\/x"\]: is not a valid name/},
    {name: 'a version named ..', repo: (d) => fileRepo(d, 'img.qcow2', {names: {version: '..'}}), template: 't:..', message: /versions\["\.\."\]: is not a valid name/},
    {name: 'a repository named ../x', repo: (d) => fileRepo(d, 'img.qcow2', {names: {repo: '../x'}}), message: /name: must match/},
    {
      name: 'a network repository with a file source',
      repo: async () => {
        server.routes.set('/file-source/repo.json', (_req, res) => res.writeHead(200).end(repoJson({type: 'file', args: {root: '/'}}, 'etc/shadow')))
        return `${server.url}/file-source/repo.json`
      },
      message: /sources\.s is a "file" source, but the repository was loaded over the network/,
    },
    {
      name: 'an image that is a symlink out of the file root',
      repo: async (d) => {
        const file = await fileRepo(d, 'link.qcow2')
        await symlink(path.join(world.sentinel, 'secret'), path.join(d, 'link.qcow2'))
        return file
      },
      message: /link\.qcow2 resolves outside its source root/,
    },
    {
      name: 'a metadata sidecar that is a symlink out of the file root',
      repo: async (d) => {
        const file = await fileRepo(d, 'img.qcow2')
        await symlink(path.join(world.sentinel, 'secret'), path.join(d, 'img.qcow2.metadata'))
        return file
      },
      message: /img\.qcow2\.metadata resolves outside its source root/,
    },
    {
      name: 'a qcow2 whose backing file is /etc/hostname',
      repo: async (d) => {
        execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', 'raw', '-b', '/etc/hostname', path.join(d, 'backed.qcow2')])
        return fileRepo(d, 'img.qcow2', {file: await readFile(path.join(d, 'backed.qcow2'))})
      },
      message: /Template r:t:v1: .*img\.qcow2 names a backing file \(\/etc\/hostname\); a template must be self-contained/,
    },
    {
      name: 'a qcow2 with an external data file',
      repo: async (d) => {
        execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-o', `data_file=${path.join(d, 'data.raw')}`, path.join(d, 'data.qcow2'), '1M'])
        return fileRepo(d, 'img.qcow2', {file: await readFile(path.join(d, 'data.qcow2'))})
      },
      message: /img\.qcow2 names an external data file \(.*data\.raw\)/,
    },
    {name: 'a repository template without a .hash', repo: (d) => fileRepo(d, 'img.qcow2', {hash: false}), message: /Template r:t:v1: the repository publishes no hash for .*img\.qcow2/},
    {
      name: 'a .hash that is not a digest',
      repo: async (d) => {
        const file = await fileRepo(d, 'img.qcow2')
        await writeFile(path.join(d, 'img.qcow2.hash'), '$(rm -rf /)\n')
        return file
      },
      message: /img\.qcow2\.hash/,
    },
    {
      name: 'a .metadata that is not an object',
      repo: async (d) => {
        const file = await fileRepo(d, 'img.qcow2')
        await writeFile(path.join(d, 'img.qcow2.metadata'), '["distro", "../../x"]')
        return file
      },
      message: /The metadata file .*img\.qcow2\.metadata is not a JSON object/,
    },
    {
      name: 'a redirect to another origin over plain http',
      repo: async () => httpRepo('redirect-other', 'img.qcow2', {'img.qcow2': (req, res) => res.writeHead(302, {location: `http://localhost:${req.socket.localPort}/x`}).end()}),
      message: /img\.qcow2: the server answered with a redirect to http:\/\/localhost:\d+\/x, which is neither https nor the same origin/,
    },
    {
      name: 'a redirect to file:///etc/shadow',
      repo: async () => httpRepo('redirect-file', 'img.qcow2', {'img.qcow2': (_req, res) => res.writeHead(301, {location: 'file:///etc/shadow'}).end()}),
      message: /a redirect to file:\/\/\/etc\/shadow, which is neither https nor the same origin/,
    },
    {
      name: 'a redirect loop',
      repo: async () => httpRepo('redirect-loop', 'img.qcow2', {'img.qcow2': (_req, res) => res.writeHead(307, {location: 'img.qcow2'}).end()}),
      message: /img\.qcow2: the server answered with more than 5 redirects/,
    },
    {
      name: 'a redirect without a Location',
      repo: async () => httpRepo('redirect-none', 'img.qcow2', {'img.qcow2': (_req, res) => res.writeHead(302).end()}),
      message: /img\.qcow2: the server answered with a redirect without a Location/,
    },
    {
      name: 'a body closed early with no length and no hash',
      repo: async () =>
        httpRepo('close-early', 'img.qcow2', {
          'img.qcow2': (_req, res) => {
            // HTTP/1.0 style: no length, no chunking; the end is wherever the connection closes.
            res.socket!.write('HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n')
            res.socket!.end(image.subarray(0, 1000))
          },
          'img.qcow2.hash': (_req, res) => res.writeHead(404).end(),
        }),
      extraArgs: ['--allow-unverified'],
      message: /img\.qcow2: the server sends no length and there is no checksum/,
    },
    {
      name: 'a server that claims more bytes than it sends',
      repo: async () =>
        httpRepo('lie-long', 'img.qcow2', {
          'img.qcow2': (_req, res) => {
            res.writeHead(200, {'content-length': image.length * 2})
            res.write(image)
            setTimeout(() => res.socket?.destroy(), 20)
          },
        }),
      message: /Cannot download .*img\.qcow2: .*gave up after 2 attempts/,
    },
    {
      name: 'a server that claims fewer bytes than the image has',
      repo: async () =>
        httpRepo('lie-short', 'img.qcow2', {
          'img.qcow2': (_req, res) => res.writeHead(200, {'content-length': 1000}).end(image.subarray(0, 1000)),
          'img.qcow2.hash': (_req, res) => res.writeHead(200).end(`${sha256(image)}\n`),
        }),
      message: /img\.qcow2 failed verification: expected sha256/,
    },
    {
      name: 'a corrupted body',
      repo: async () =>
        httpRepo('corrupt', 'img.qcow2', {
          'img.qcow2': (_req, res) => {
            const bad = Buffer.from(image)
            bad[100] ^= 0xff
            res.writeHead(200, {'content-length': bad.length}).end(bad)
          },
          'img.qcow2.hash': (_req, res) => res.writeHead(200).end(`${sha256(image)}\n`),
        }),
      message: /img\.qcow2 failed verification/,
    },
    {
      name: 'a repository file of 20 MiB',
      repo: async () => {
        const big = Buffer.alloc(20 * 1024 * 1024, 0x20)
        server.routes.set('/huge/repo.json', (_req, res) => res.writeHead(200, {'content-length': big.length}).end(big))
        return `${server.url}/huge/repo.json`
      },
      message: /Cannot load template repository .*huge\/repo\.json: .*larger than 16 MiB/,
    },
    {
      name: 'a repository that is not JSON',
      repo: async (d) => {
        const file = path.join(d, 'repo.json')
        await writeFile(file, '{"name": "r", ')
        return file
      },
      message: /Template repository .*repo\.json is not valid JSON/,
    },
    {
      name: 'a plain image reference to a private host file',
      repo: (d) => fileRepo(d, 'img.qcow2'),
      template: 'SENTINEL/secret',
      message: /Template file:secret:[0-9a-f]+: .*sentinel\/secret is not a disk image \(12 bytes, not whole 512-byte sectors\)/,
    },
    {
      name: 'a plain image reference to a device (/dev/zero)',
      repo: (d) => fileRepo(d, 'img.qcow2'),
      template: '/dev/zero',
      message: /\/dev\/zero\.template_name: \/dev\/zero is not a regular file/,
    },
    {
      name: 'a repository handle that is a device (symlink to /dev/zero)',
      repo: async (d) => {
        const file = await fileRepo(d, 'zero.qcow2')
        await symlink('/dev/zero', path.join(d, 'zero.qcow2'))
        await writeFile(path.join(d, 'zero.qcow2.hash'), `${sha256('')}\n`)
        return file
      },
      message: /zero\.qcow2 resolves outside its source root|Template image .*zero\.qcow2 is not a regular file/,
    },
    {
      name: 'allow_unverified set to nonsense',
      repo: (d) => fileRepo(d, 'img.qcow2'),
      env: {LAGO__DOWNLOAD__ALLOW_UNVERIFIED: 'maybe'},
      message: /Invalid value "maybe" for download\.allow_unverified in the environment: expected true or false/,
    },
  ]

  before(async () => {
    world = await HostileWorld.create('templates')
    fingerprint = await world.fingerprint()
    server = new HostileServer()
    await server.start()
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', path.join(world.dir, 'image.qcow2'), '8M'])
    image = await readFile(path.join(world.dir, 'image.qcow2'))
    const runs = CASES.map((c, index) => async () => {
      const dir = path.join(world.dir, 'cases', String(index))
      await mkdir(dir, {recursive: true})
      const repo = await c.repo(dir)
      outcomes.set(c.name, await lagoCli(world, ['template', 'pull', (c.template ?? 't').replace('SENTINEL', world.sentinel), '--template-repo-path', repo, ...(c.extraArgs ?? [])], c.env))
    })
    await pool(runs)
  })

  after(async () => {
    await server.stop()
    await world.remove()
  })

  for (const c of CASES) {
    it(c.name, async () => {
      assertCliRefusal(outcomes.get(c.name)!, c.exit ?? 2, c.message)
      const stored = (await readdir(world.store).catch(() => [] as string[])).filter((n) => !n.startsWith('.'))
      assert.deepEqual(stored, [], 'nothing stored: no image, no sidecar, no partial download')
      assert.equal(await world.fingerprint(), fingerprint, 'the sentinel directory is untouched')
    })
  }

  it(`holds at least 25 repository, image and server cases (${CASES.length})`, () => assert.ok(CASES.length >= 25))
})
