import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import {execFileSync} from 'node:child_process'
import {chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import {isLagoError, parseTemplateRepo, resolveImageTemplate, resolveTemplate, TemplateRepoRegistry, TemplateStore} from '@lago/core'

describe('the template store', () => {
  let dir: string
  let repoFile: string
  let sha: string

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'lago-store-'))
    const images = path.join(dir, 'images')
    await mkdir(images)
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', path.join(images, 'a.qcow2'), '16M'])
    sha = createHash('sha256')
      .update(await readFile(path.join(images, 'a.qcow2')))
      .digest('hex')
    await writeFile(path.join(images, 'a.qcow2.hash'), `${sha}  a.qcow2\n`)
    await writeFile(path.join(images, 'a.qcow2.metadata'), JSON.stringify({distro: 'x'}))
    repoFile = path.join(dir, 'repo.json')
    await writeFile(
      repoFile,
      JSON.stringify({
        name: 'r',
        sources: {local: {type: 'file', args: {root: 'images'}}},
        templates: {t: {versions: {v1: {source: 'local', handle: 'a.qcow2', timestamp: 1}, v2: {source: 'local', handle: 'a.qcow2', timestamp: 2}}}},
      }),
    )
  })

  after(() => rm(dir, {recursive: true, force: true}))

  async function prefix(name: string) {
    const uuidFile = path.join(dir, name, '.lago', 'uuid')
    await mkdir(path.dirname(uuidFile), {recursive: true})
    const uuid = createHash('sha1').update(name).digest('hex').slice(0, 32)
    await writeFile(uuidFile, uuid)
    return {uuidFile, uuid}
  }

  it('stores a verified, read-only image with its sidecars; concurrent ensures fetch it once', async () => {
    const store = new TemplateStore(path.join(dir, 'store1'))
    const repo = await parseTemplateRepo(await readFile(repoFile, 'utf8'), repoFile)
    const template = resolveTemplate(repo, 't:v1')
    assert.equal(template.image, path.join(dir, 'images', 'a.qcow2'), 'a relative file root is relative to the repository file')
    let waited = 0
    const onWait = () => waited++
    const [a, b] = await Promise.all([store.ensure(template, {onWait}), store.ensure(template, {onWait})])
    assert.equal([a.downloaded, b.downloaded].filter(Boolean).length, 1)
    assert.ok(waited > 0, 'whichever came second waited for the lock')
    const image = path.join(store.dir, 'r:t:v1')
    assert.equal((await stat(image)).mode & 0o777, 0o444)
    assert.equal((await readFile(`${image}.hash`, 'utf8')).trim(), `sha256:${sha}`)
    const stored = await store.get('r:t:v1')
    assert.deepEqual([stored?.format, stored?.verified, stored?.metadata], ['qcow2', true, {distro: 'x'}])
  })

  it('prune keeps versions live prefixes use, drops the rest and stale users', async () => {
    const store = new TemplateStore(path.join(dir, 'store2'))
    const repo = await parseTemplateRepo(await readFile(repoFile, 'utf8'), repoFile)
    const alive = await prefix('alive')
    const gone = await prefix('gone')
    await store.ensure(resolveTemplate(repo, 't:v1'), {user: alive})
    await store.ensure(resolveTemplate(repo, 't:v2'), {user: gone})
    await rm(path.join(dir, 'gone'), {recursive: true})
    await writeFile(path.join(store.dir, 'r:t:v9.tmp'), 'partial')
    const dry = await store.prune({dryRun: true})
    assert.deepEqual(
      dry.removed.map((e) => e.id),
      ['r:t:v2'],
    )
    assert.deepEqual(dry.partials, ['r:t:v9.tmp'])
    assert.ok((await readdir(store.dir)).includes('r:t:v2'))
    const result = await store.prune()
    assert.deepEqual(
      result.kept.map((e) => [e.id, e.users.map((u) => u.uuidFile)]),
      [['r:t:v1', [alive.uuidFile]]],
    )
    assert.deepEqual((await readdir(store.dir)).filter((n) => !n.startsWith('.')).sort(), ['r:t:v1', 'r:t:v1.hash', 'r:t:v1.metadata', 'r:t:v1.users'])
    await store.release('r:t:v1', alive)
    assert.deepEqual(
      (await store.prune()).removed.map((e) => e.id),
      ['r:t:v1'],
    )
  })

  it('an unwritable store says which permission is missing and for whom', async function () {
    if (process.getuid?.() !== 0) this.skip()
    const locked = path.join(dir, 'locked-store')
    await mkdir(locked, {mode: 0o755})
    await chmod(dir, 0o755)
    const repo = await parseTemplateRepo(await readFile(repoFile, 'utf8'), repoFile)
    const script = `import('@lago/core').then(({TemplateStore}) => new TemplateStore(${JSON.stringify(path.join(locked, 'store'))}).ensure(${JSON.stringify({...resolveTemplate(repo, 't'), repo: undefined})}))
      .catch((e) => { console.log(e.text); process.exit(3) })`
    let output = ''
    try {
      execFileSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '--input-type=module', '-e', script], {cwd: process.cwd(), encoding: 'utf8'})
    } catch (error) {
      output = String((error as {stdout?: string}).stdout)
    }
    assert.match(
      output,
      new RegExp(`Cannot write to the template store .*locked-store/store: write permission on .*locked-store \\(owner uid 0, group gid 0, mode 0755\\) is missing for user \\S+ \\(uid 65534\\)\\.`),
    )
    assert.match(output, /needs write and search permission \(w and x\)/)
  })

  it('plain images: URL and path templates get stable ids; bad checksums name the field', async () => {
    const url = await resolveImageTemplate('https://example.org/x/debian-12.qcow2.xz', {baseDir: dir, where: 'domains.vm0.disks[0]'})
    assert.match(url.id, /^url:debian-12\.qcow2:[0-9a-f]{12}$/)
    assert.equal(url.image, 'https://example.org/x/debian-12.qcow2.xz')
    const local = await resolveImageTemplate('./images/a.qcow2', {baseDir: dir, where: 'w', checksum: `sha256:${sha}`})
    assert.match(local.id, /^file:a\.qcow2:[0-9a-f]{12}$/)
    assert.deepEqual(local.checksum, {algorithm: 'sha256', hex: sha})
    await assert.rejects(
      resolveImageTemplate('./missing.qcow2', {baseDir: dir, where: 'domains.vm0.disks[0]'}),
      /domains\.vm0\.disks\[0\]\.template_name: image .*missing\.qcow2 cannot be read \(ENOENT\)/,
    )
    await assert.rejects(resolveImageTemplate('https://e/x', {baseDir: dir, where: 'd', checksum: 'md5:abc'}), /d\.template_checksum holds no sha1, sha256 or sha512 digest/)
  })

  it('repository errors point at the field', async () => {
    const bad = {name: 'r', sources: {w: {type: 'http', args: {root: '/x'}}, f: {type: 'ftp', args: {}}}, templates: {'a:b': {versions: {}}}}
    await assert.rejects(parseTemplateRepo(JSON.stringify(bad), 'R.json'), (error: unknown) => {
      assert.ok(isLagoError(error))
      assert.match(error.message, /sources\.w\.args\.baseurl: is required/)
      assert.match(error.message, /sources\.f\.type: must be one of "file", "http", "https"/)
      assert.match(error.message, /templates\["a:b"\]\.versions: must NOT have fewer than 1 properties/)
      return true
    })
  })

  it('template-repo registry: a JSON file is copied, a name is found by directory or repository name', async () => {
    const registry = new TemplateRepoRegistry(path.join(dir, 'repos'))
    const added = await registry.add(repoFile, {name: 'mine'})
    assert.deepEqual([added.name, added.kind, added.repoName, added.templates], ['mine', 'file', 'r', ['t']])
    assert.equal((await registry.find('r')).name, 'mine')
    await assert.rejects(registry.find('other'), (error: unknown) => isLagoError(error) && /No template repository named "other" is registered in .*repos\.\nRegistered: mine\./.test(error.text))
    await assert.rejects(registry.add(path.join(dir, 'nope.json')), /nope\.json is neither an existing file or directory nor a URL/)
    const updated = await registry.update()
    assert.equal(updated[0].error, undefined)
  })
})
