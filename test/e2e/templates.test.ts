import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {mkdir, readdir, readFile, stat, writeFile} from 'node:fs/promises'
import path from 'node:path'
import {execa} from 'execa'
import {guestImage, ONE_VM_INIT_FILE, Sandbox} from '../lib/harness.js'
import {TemplateServer} from '../lib/template-server.js'

/**
 * Templates end to end: a repository served over loopback HTTP (inside the test namespace),
 * the shared store, downloads that survive dropped connections and reject corrupt bodies,
 * racing inits, newer versions, compressed handles, prune, registered repositories.
 */
describe('templates over HTTP: store, downloads, repositories', function () {
  let sandbox: Sandbox
  let server: TemplateServer
  let sha256: string
  let imageSize: number
  let repoUrl: string
  let initFile: string
  const versions: Record<string, {handle: string; timestamp: number}> = {v1: {handle: 'tiny-v1.qcow2', timestamp: 1_700_000_000}}
  /** Quick retries so failure paths take seconds, and progress lines often enough to see. */
  const env = {LAGO__DOWNLOAD__BACKOFF_MS: '100', LAGO__DOWNLOAD__RETRIES: '3', LAGO_PROGRESS_INTERVAL_MS: '300'}
  const store = (name: string) => path.join(sandbox.dir, `store-${name}`)
  const image = (name: string) => `/images/${name}`

  function publishRepo(): void {
    server.serveText(
      '/repo.json',
      JSON.stringify({
        name: 'web',
        sources: {site: {type: 'http', args: {baseurl: `${server.url}/images/`}}},
        templates: {tiny: {versions: Object.fromEntries(Object.entries(versions).map(([v, e]) => [v, {source: 'site', ...e}]))}},
      }),
    )
  }

  function publishImage(handle: string, file: string, hash = sha256): void {
    server.serveFile(image(handle), file)
    server.serveText(image(`${handle}.hash`), `${hash}\n`)
    server.serveText(image(`${handle}.metadata`), JSON.stringify({distro: 'tiny-debian12', 'root-password': 'none', bootstrap: 'cloud-init-nocloud'}))
  }

  function init(prefix: string, storeDir: string, extra: string[] = []) {
    return sandbox.lago(['init', path.join(sandbox.dir, prefix), initFile, '--template-repo-path', repoUrl, '--template-store', storeDir, ...extra], {env})
  }

  before(async () => {
    sandbox = await Sandbox.create('templates')
    sha256 = (await readFile(`${guestImage()}.sha256`, 'utf8')).trim()
    imageSize = (await stat(guestImage())).size
    server = new TemplateServer()
    await server.start()
    repoUrl = `${server.url}/repo.json`
    publishImage('tiny-v1.qcow2', guestImage())
    publishRepo()
    initFile = await sandbox.writeInitFile('LagoInitFile', ONE_VM_INIT_FILE)
  })

  after(async () => {
    for (const prefix of ['boot', 'warm', 'newer', 'registered']) await sandbox.lago(['cleanup', '--prefix-path', path.join(sandbox.dir, prefix)])
    await server.stop()
    await sandbox.remove()
  })

  beforeEach(() => {
    server.requests.length = 0
    server.faults.clear()
  })

  it('init downloads the template over HTTP (progress lines, verified, read-only in the store) and the VM boots from it', async () => {
    server.faults.set(image('tiny-v1.qcow2'), {bytesPerSecond: 12 * 1024 * 1024})
    const result = await init('boot', store('a'))
    assert.equal(result.exitCode, 0, String(result.all))
    const output = String(result.all)
    assert.match(output, /Template web:tiny:v1/)
    assert.match(output, /\d+% [\d.]+ (KiB|MiB) of [\d.]+ MiB, [\d.]+ MiB\/s, ETA \d+ s/, 'periodic progress lines with rate and ETA when not on a terminal')
    assert.equal(server.gets(image('tiny-v1.qcow2')).length, 1)
    const stored = path.join(store('a'), 'web:tiny:v1')
    assert.equal((await stat(stored)).mode & 0o777, 0o444, 'stored images are read-only')
    assert.equal((await readFile(`${stored}.hash`, 'utf8')).trim(), `sha256:${sha256}`)
    const metadata = JSON.parse(await readFile(`${stored}.metadata`, 'utf8'))
    assert.equal(metadata.distro, 'tiny-debian12')
    assert.equal(metadata.lago.verified, true)
    assert.equal(metadata.lago.source, `${server.url}/images/tiny-v1.qcow2`)
    assert.equal((await readdir(`${stored}.users`)).length, 1, 'the prefix is recorded as a user')
    assert.deepEqual(
      (await readdir(store('a'))).filter((n) => n.endsWith('.tmp') || n.endsWith('.part')),
      [],
    )

    const prefix = path.join(sandbox.dir, 'boot')
    const start = await sandbox.lago(['start'], {cwd: prefix})
    assert.equal(start.exitCode, 0, String(start.all))
    const hostname = await sandbox.lago(['shell', 'vm0', '-c', 'hostname'], {cwd: prefix})
    assert.equal(hostname.exitCode, 0, String(hostname.all))
    assert.equal(String(hostname.stdout).trim(), 'vm0')
    const cleanup = await sandbox.lago(['cleanup'], {cwd: prefix})
    assert.equal(cleanup.exitCode, 0, String(cleanup.all))
    assert.deepEqual(await readdir(`${stored}.users`), [], 'cleanup releases the template')
  })

  it('a warm store inits with no network access at all (the repository from its last good copy)', async () => {
    await server.stop()
    try {
      const started = Date.now()
      const result = await init('warm', store('a'))
      assert.equal(result.exitCode, 0, String(result.all))
      assert.match(String(result.stderr), /template repository http:\/\/127\.0\.0\.1:\d+\/repo\.json is unreachable .*connection refused.*; using the copy from/)
      assert.match(String(result.all), /in the store/)
      assert.ok(Date.now() - started < 15_000)
    } finally {
      await server.start()
    }
    assert.equal(server.requests.length, 0)
  })

  it('resumes with an HTTP Range request when the server cuts the connection mid-body', async () => {
    server.faults.set(image('tiny-v1.qcow2'), {cutAfter: 5_000_000})
    const result = await sandbox.lago(['template', 'pull', 'tiny', '--template-repo-path', repoUrl, '--template-store', store('b'), '--json'], {env})
    assert.equal(result.exitCode, 0, String(result.all))
    const gets = server.gets(image('tiny-v1.qcow2'))
    assert.deepEqual(
      gets.map((g) => [g.range, g.status]),
      [
        [undefined, 200],
        ['bytes=5000000-', 206],
      ],
    )
    const pulled = JSON.parse(String(result.stdout)).templates[0]
    assert.equal(pulled.hash, `sha256:${sha256}`)
    assert.equal(pulled.size, imageSize)
  })

  it('a corrupt body is rejected naming the URL and both hashes, and never lands in the store', async () => {
    server.faults.set(image('tiny-v1.qcow2'), {corruptAt: 1_000_000})
    const result = await init('corrupt', store('c'))
    assert.equal(result.exitCode, 2, String(result.all))
    assert.match(String(result.stderr), new RegExp(`${server.url}/images/tiny-v1\\.qcow2 failed verification: expected sha256 ${sha256}, got [0-9a-f]{64}\\.\\nThe download was discarded`))
    const left = await readdir(store('c'))
    assert.deepEqual(
      left.filter((n) => n.startsWith('web:tiny:v1') && !n.endsWith('.lock')),
      [],
      `store holds ${left.join(', ')}`,
    )
    await assert.rejects(stat(path.join(sandbox.dir, 'corrupt')), /ENOENT/)
  })

  it('two inits racing for the same template download it once; the second says it waits', async () => {
    server.faults.set(image('tiny-v1.qcow2'), {bytesPerSecond: 8 * 1024 * 1024})
    const [first, second] = await Promise.all([init('race1', store('d')), new Promise((r) => setTimeout(r, 300)).then(() => init('race2', store('d')))])
    assert.equal(first.exitCode, 0, String(first.all))
    assert.equal(second.exitCode, 0, String(second.all))
    assert.equal(server.gets(image('tiny-v1.qcow2')).length, 1, 'exactly one download')
    assert.match(String(first.all) + String(second.all), /waiting for another Lago process downloading it/)
    for (const prefix of ['race1', 'race2']) await sandbox.lago(['cleanup', '--prefix-path', path.join(sandbox.dir, prefix)])
  })

  it('a newer version in the repository is used and said so; the older one stays for the prefix using it', async () => {
    versions.v2 = {handle: 'tiny-v2.qcow2', timestamp: 1_800_000_000}
    publishImage('tiny-v2.qcow2', guestImage())
    publishRepo()
    const result = await init('newer', store('a'))
    assert.equal(result.exitCode, 0, String(result.all))
    assert.match(String(result.all), /Template web:tiny:v2 \(newer than v1 in the store: using it\)/)
    const ids = (await readdir(store('a'))).filter((n) => /^web:tiny:v\d$/.test(n))
    assert.deepEqual(ids.sort(), ['web:tiny:v1', 'web:tiny:v2'])
    const overlay = JSON.parse(String((await execa('qemu-img', ['info', '--output=json', path.join(sandbox.dir, 'newer/.lago/images/vm0_root.qcow2')])).stdout))
    assert.equal(overlay['backing-filename'], path.join(store('a'), 'web:tiny:v2'))
  })

  it('a compressed (.xz) handle is decompressed in the stream and verified against the image hash', async () => {
    const xz = path.join(sandbox.dir, 'tiny-v3.qcow2.xz')
    execFileSync('sh', ['-c', 'xz -0 -T2 -c "$1" > "$2"', 'sh', guestImage(), xz])
    versions.v3 = {handle: 'tiny-v3.qcow2.xz', timestamp: 1_600_000_000}
    publishImage('tiny-v3.qcow2.xz', xz)
    publishRepo()
    const result = await sandbox.lago(['template', 'pull', 'tiny:v3', '--template-repo-path', repoUrl, '--template-store', store('a'), '--json'], {env})
    assert.equal(result.exitCode, 0, String(result.all))
    const stored = path.join(store('a'), 'web:tiny:v3')
    assert.equal((await stat(stored)).size, imageSize)
    assert.equal((await readFile(`${stored}.hash`, 'utf8')).trim(), `sha256:${sha256}`)
    const info = JSON.parse(String((await execa('qemu-img', ['info', '--output=json', stored])).stdout))
    assert.equal(info.format, 'qcow2')
  })

  it('prune drops the versions no prefix uses (--dry-run only tells)', async () => {
    assert.equal((await sandbox.lago(['cleanup', '--prefix-path', path.join(sandbox.dir, 'warm')])).exitCode, 0)
    const dry = await sandbox.lago(['template', 'prune', '--dry-run', '--template-store', store('a'), '--json'])
    assert.equal(dry.exitCode, 0, String(dry.all))
    const plan = JSON.parse(String(dry.stdout))
    assert.deepEqual(plan.removed.map((r: {id: string}) => r.id).sort(), ['web:tiny:v1', 'web:tiny:v3'])
    assert.deepEqual(
      plan.kept.map((r: {id: string}) => r.id),
      ['web:tiny:v2'],
    )
    assert.ok((await readdir(store('a'))).includes('web:tiny:v1'), 'dry run removes nothing')
    const text = await sandbox.lago(['template', 'prune', '--template-store', store('a')])
    assert.equal(text.exitCode, 0, String(text.all))
    assert.match(String(text.stdout), /Removed web:tiny:v1 \(/)
    assert.match(String(text.stdout), /Kept web:tiny:v2: used by .*\/newer/)
    const left = (await readdir(store('a'))).filter((n) => n.startsWith('web:'))
    assert.deepEqual(left.sort(), ['web:tiny:v2', 'web:tiny:v2.hash', 'web:tiny:v2.metadata', 'web:tiny:v2.users'])
    const list = JSON.parse(String((await sandbox.lago(['template', 'list', '--template-store', store('a'), '--json'])).stdout))
    assert.deepEqual(
      list.templates.map((t: {id: string; users: string[]}) => [t.id, t.users.length]),
      [['web:tiny:v2', 1]],
    )
  })

  it('template-repo add clones a local git repository; init --template-repo-name uses it; update brings new versions', async () => {
    const origin = path.join(sandbox.dir, 'repo-origin')
    await mkdir(origin)
    const git = (...args: string[]) =>
      execFileSync('git', ['-C', origin, ...args], {env: {...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@x', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@x'}})
    git('init', '-q')
    const publish = async (extra: Record<string, unknown>) => {
      const repo = {
        name: 'gitrepo',
        sources: {site: {type: 'http', args: {baseurl: `${server.url}/images/`}}},
        templates: {tiny: {versions: {v2: {source: 'site', handle: 'tiny-v2.qcow2', timestamp: 1_800_000_000}, ...extra}}},
      }
      await writeFile(path.join(origin, 'repo.metadata'), JSON.stringify(repo, null, 2))
      git('add', 'repo.metadata')
      git('commit', '-qm', 'templates')
    }
    await publish({})
    const repos = path.join(sandbox.dir, 'repos')
    const add = await sandbox.lago(['template-repo', 'add', origin, '--name', 'mine', '--template-repos', repos, '--json'])
    assert.equal(add.exitCode, 0, String(add.all))
    assert.equal(JSON.parse(String(add.stdout)).repoName, 'gitrepo')
    const result = await sandbox.lago(['init', path.join(sandbox.dir, 'registered'), initFile, '--template-repo-name', 'mine', '--template-repos', repos, '--template-store', store('a')], {env})
    assert.equal(result.exitCode, 0, String(result.all))
    assert.match(String(result.all), /Template gitrepo:tiny:v2/)
    await publish({v9: {source: 'site', handle: 'tiny-v2.qcow2', timestamp: 1_900_000_000}})
    const update = await sandbox.lago(['template-repo', 'update', '--template-repos', repos])
    assert.equal(update.exitCode, 0, String(update.all))
    const list = await sandbox.lago(['template', 'list', '--template-repo-name', 'mine', '--template-repos', repos, '--template-store', store('a'), '--json'])
    assert.deepEqual(
      JSON.parse(String(list.stdout)).templates.map((t: {version: string}) => t.version),
      ['v9', 'v2'],
    )
    const again = await sandbox.lago(['template-repo', 'add', origin, '--name', 'mine', '--template-repos', repos])
    assert.equal(again.exitCode, 2)
    assert.match(String(again.stderr), /A template repository named "mine" is already registered/)
  })

  it('errors name what is wrong: unknown version, missing image (URL and HTTP status), unknown registered repository', async () => {
    const unknown = await sandbox.lago(['template', 'pull', 'tiny:v7', '--template-repo-path', repoUrl, '--template-store', store('e')])
    assert.equal(unknown.exitCode, 2)
    assert.match(String(unknown.stderr), /Template "tiny" has no version "v7" in repository "web"\.\nVersions it offers \(newest first\): v2, v1, v3\./)
    versions.v4 = {handle: 'missing.qcow2', timestamp: 1_500_000_000}
    publishRepo()
    const missing = await sandbox.lago(['template', 'pull', 'tiny:v4', '--template-repo-path', repoUrl, '--template-store', store('e'), '--allow-unverified'], {env})
    assert.equal(missing.exitCode, 2)
    assert.match(String(missing.stderr), new RegExp(`Cannot download ${server.url}/images/missing\\.qcow2: HTTP 404 Not Found\\.`))
    const noRepo = await sandbox.lago(['template', 'list', '--template-repo-name', 'nope', '--template-repos', path.join(sandbox.dir, 'repos')])
    assert.equal(noRepo.exitCode, 2)
    assert.match(String(noRepo.stderr), /No template repository named "nope" is registered in .*\nRegistered: mine\./)
  })
})
