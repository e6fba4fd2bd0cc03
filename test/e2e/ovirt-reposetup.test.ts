import assert from 'node:assert/strict'
import {readdir} from 'node:fs/promises'
import path from 'node:path'
import {ONE_VM_INIT_FILE, Sandbox} from '../lib/harness.js'
import {TemplateServer} from '../lib/template-server.js'
import {buildYumRepo, serveYumRepo, spec} from '../lib/yum-repo.js'

describe('lago ovirt reposetup (loopback yum repository, no VM)', function () {
  let sandbox: Sandbox
  let server: TemplateServer
  let prefix: string
  let yumFile: string
  let localSpec: string
  const reposetup = (args: string[], cwd = prefix) => sandbox.lago(['ovirt', 'reposetup', ...args], {cwd, env: {LAGO__OVIRT__REPOSYNC_DIR: path.join(sandbox.dir, 'reposync')}})
  const rpmGets = () => server.requests.filter((r) => r.path.endsWith('.rpm')).length
  const internalRpms = async (root = prefix) => (await readdir(path.join(root, 'internal_repo/tiny-debian12'))).filter((n) => n.endsWith('.rpm')).sort()

  before(async () => {
    sandbox = await Sandbox.create('ovirt-reposetup')
    const upstream = path.join(sandbox.dir, 'upstream')
    await buildYumRepo(upstream, [spec('lago-hello', '1.0', '1', 'upstream'), spec('lago-tools', '2.0', '1', 'upstream')])
    const broken = path.join(sandbox.dir, 'broken')
    await buildYumRepo(broken, [spec('lago-broken', '1.0', '1', 'upstream')])
    server = new TemplateServer()
    await serveYumRepo(server, upstream)
    await serveYumRepo(server, broken, '/broken')
    server.faults.set('/broken/noarch/lago-broken-1.0-1.noarch.rpm', {corruptAt: 200, times: 100})
    await server.start()
    yumFile = await sandbox.writeInitFile('reposync-config.repo', `[upstream-tiny-debian12]\nbaseurl=${server.url}/\ngpgcheck=0\n\n[ovirt-master-el9]\nbaseurl=${server.url}/el9/\n`)
    localSpec = await sandbox.writeInitFile('lago-hello.spec', spec('lago-hello', '1.0', '0.local', 'built-locally'))
    const initFile = await sandbox.writeInitFile('LagoInitFile', ONE_VM_INIT_FILE)
    prefix = path.join(sandbox.dir, 'env')
    const init = await sandbox.lago(['init', prefix, initFile, '--template-repo-path', await sandbox.templateRepo()])
    assert.equal(init.exitCode, 0, String(init.all))
  })

  after(async () => {
    await server.stop()
    await sandbox.lago(['destroy', '--yes', '--prefix-path', prefix])
    await sandbox.remove()
  })

  it('syncs the -<distro> sections into the cache, names the skipped ones, and the built RPM takes precedence', async () => {
    const run = await reposetup(['--reposync-yum-config', yumFile, '--build', localSpec])
    assert.equal(run.exitCode, 0, String(run.all))
    const out = String(run.stdout)
    assert.match(out, /Skipped yum sections \(not named "-<distro>" for tiny-debian12\): ovirt-master-el9/)
    assert.match(out, /upstream-tiny-debian12: downloaded 2 of 2 packages/)
    assert.match(out, /lago-hello: built from .*lago-hello\.spec takes precedence over synced repo upstream-tiny-debian12/)
    assert.deepEqual(await internalRpms(), ['lago-hello-1.0-0.local.noarch.rpm', 'lago-tools-2.0-1.noarch.rpm'])
    assert.ok(server.gets('/repodata/repomd.xml').length > 0)
  })

  it('a rerun with nothing changed downloads no package and says it reused the cache', async () => {
    const before = rpmGets()
    const run = await reposetup(['--reposync-yum-config', yumFile, '--build', localSpec, '--json'])
    assert.equal(run.exitCode, 0, String(run.all))
    const report = JSON.parse(String(run.stdout))
    assert.deepEqual(
      report.synced.map((s: any) => [s.id, s.reused, s.downloaded.length, s.packages]),
      [['upstream-tiny-debian12', true, 0, 2]],
    )
    assert.equal(rpmGets(), before, 'no package downloaded again')
    const text = await reposetup(['--reposync-yum-config', yumFile, '--build', localSpec])
    assert.match(String(text.stdout), /upstream-tiny-debian12: reused the cache \(2 packages, nothing new\)/)
    assert.match(String(text.stdout), /every repository came from the cache/)
  })

  it('the cache is shared by other prefixes of the host', async () => {
    const other = path.join(sandbox.dir, 'env2')
    const init = await sandbox.lago(['init', other, path.join(sandbox.dir, 'LagoInitFile'), '--template-repo-path', path.join(sandbox.dir, 'template-repo.json')])
    assert.equal(init.exitCode, 0, String(init.all))
    const before = rpmGets()
    const run = await reposetup(['--reposync-yum-config', yumFile], other)
    const rpms = await internalRpms(other)
    await sandbox.lago(['destroy', '--yes', '--prefix-path', other])
    assert.equal(run.exitCode, 0, String(run.all))
    assert.match(String(run.stdout), /reused the cache/)
    assert.equal(rpmGets(), before)
    assert.deepEqual(rpms, ['lago-hello-1.0-1.noarch.rpm', 'lago-tools-2.0-1.noarch.rpm'], "without --build, upstream's package")
  })

  it('--custom-source alone is valid: no yum file needed', async () => {
    const custom = path.join(sandbox.dir, 'custom')
    await buildYumRepo(custom, [spec('lago-extra', '3.0', '1', 'custom')])
    const run = await reposetup(['--custom-source', custom])
    assert.equal(run.exitCode, 0, String(run.all))
    assert.deepEqual(await internalRpms(), ['lago-extra-3.0-1.noarch.rpm'])
  })

  it('a corrupt package after sync is retried and then fails loudly, naming it', async () => {
    const badFile = await sandbox.writeInitFile('broken.repo', `[broken-tiny-debian12]\nbaseurl=${server.url}/broken/\ngpgcheck=0\n`)
    const run = await reposetup(['--reposync-yum-config', badFile])
    assert.equal(run.exitCode, 1, String(run.all))
    assert.match(String(run.stderr), /Could not sync repository "broken-tiny-debian12" of .*broken\.repo after 3 attempts/)
    assert.match(String(run.stderr), /\[FAILED\] lago-broken-1\.0-1\.noarch\.rpm/)
    assert.ok(server.gets('/broken/noarch/lago-broken-1.0-1.noarch.rpm').length >= 3, 'downloaded once per attempt')
  })

  it('bad input: a missing yum file, no applicable section, nothing at all', async () => {
    const missing = await reposetup(['--reposync-yum-config', path.join(sandbox.dir, 'nope.repo')])
    assert.equal(missing.exitCode, 2)
    assert.match(String(missing.stderr), /nope\.repo: no such file/)
    const el9 = await sandbox.writeInitFile('el9.repo', `[ovirt-el9]\nbaseurl=${server.url}/\n`)
    const none = await reposetup(['--reposync-yum-config', el9])
    assert.equal(none.exitCode, 2)
    assert.match(String(none.stderr), /No section of .*el9\.repo applies to this environment.*\(tiny-debian12\)/)
    assert.match(String(none.stderr), /Sections found: ovirt-el9/)
    const nothing = await reposetup([])
    assert.equal(nothing.exitCode, 2)
    assert.match(String(nothing.stderr), /Nothing to put in the internal repository/)
  })

  it('--skip-sync uses the cache without contacting the repositories', async () => {
    await server.stop()
    const run = await reposetup(['--reposync-yum-config', yumFile, '--skip-sync'])
    assert.equal(run.exitCode, 0, String(run.all))
    assert.deepEqual(await internalRpms(), ['lago-hello-1.0-1.noarch.rpm', 'lago-tools-2.0-1.noarch.rpm'])
  })
})
