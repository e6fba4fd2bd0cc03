import assert from 'node:assert/strict'
import {mkdtemp, readdir, readFile, rm, writeFile} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import {findVmType, registerVmType, registeredVmTypes, vmArtifacts, vmServices, isLagoError} from '@lago/core'
import {readRepoSections} from '../../packages/plugin-ovirt/src/lib/reposetup/yum-repo-file.js'
import {readJunit} from '../../packages/plugin-ovirt/src/lib/runtest/junit.js'
import {guestRepoFile} from '../../packages/plugin-ovirt/src/lib/guest-repo.js'
import {registerOvirtVmTypes} from '../../packages/plugin-ovirt/src/lib/vm-types.js'
import {REPO_ROOT} from '../lib/harness.js'

describe('oVirt plugin (unit)', () => {
  let dir: string
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'lago-ovirt-unit-'))
  })
  after(() => rm(dir, {recursive: true, force: true}))

  it('the core package never imports the plugin', async () => {
    const root = path.join(REPO_ROOT, 'packages/core')
    const files = (await readdir(root, {recursive: true})).filter((f) => /\.(ts|js|mjs|json)$/.test(f) && !f.startsWith('node_modules') && !f.startsWith('lib/'))
    assert.ok(files.length > 20)
    for (const file of files) {
      const text = await readFile(path.join(root, file), 'utf8')
      assert.doesNotMatch(text, /plugin-ovirt|@lago\/plugin/, `${file} refers to the plugin`)
    }
  })

  it('the plugin imports core only through its public entries (the package exports; the host-check entry spares the init hook loading all of core)', async () => {
    const exported = Object.keys((JSON.parse(await readFile(path.join(REPO_ROOT, 'packages/core/package.json'), 'utf8')) as {exports: Record<string, string>}).exports)
    const root = path.join(REPO_ROOT, 'packages/plugin-ovirt/src')
    for (const file of (await readdir(root, {recursive: true})).filter((f) => f.endsWith('.ts'))) {
      const text = await readFile(path.join(root, file), 'utf8')
      assert.doesNotMatch(text, /packages\/core|\.\.\/\.\.\/\.\.\/core/, `${file} reaches into core`)
      for (const [, entry] of text.matchAll(/from '@lago\/core(\/[^']*)?'/g)) assert.ok(exported.includes(`.${entry ?? ''}`), `${file} imports @lago/core${entry}, which core does not export`)
    }
  })

  it("uses only the yum sections named -<distro> for the environment's distros, and names the skipped ones", async () => {
    const file = path.join(dir, 'r.repo')
    await writeFile(file, '[main]\ngpgcheck=0\n[ovirt-master-el8]\nbaseurl=http://a/\n[ovirt-master-el9]\nbaseurl=http://b/\n[epel]\nbaseurl=http://c/\n[glusterfs-fc30]\nbaseurl=http://d/\n')
    const sections = await readRepoSections(file, ['el8', 'fc30'])
    assert.deepEqual(sections.used, [
      {id: 'ovirt-master-el8', distro: 'el8'},
      {id: 'glusterfs-fc30', distro: 'fc30'},
    ])
    assert.deepEqual(sections.skipped, ['ovirt-master-el9', 'epel'])
  })

  it('a missing yum config is a clear user error naming the file', async () => {
    const error = await readRepoSections(path.join(dir, 'nope.repo'), ['el8']).catch((e: unknown) => e)
    assert.ok(isLagoError(error) && error.userError)
    assert.match((error as Error).message, /nope\.repo: no such file/)
  })

  it('reads JUnit XML from pytest and from mocha-junit-reporter', async () => {
    const pytest = path.join(dir, 'py.xml')
    await writeFile(
      pytest,
      '<?xml version="1.0"?><testsuites><testsuite name="pytest" tests="2" failures="1"><testcase classname="t" name="test_ok" time="0.1"/><testcase classname="t" name="test_bad" time="0.2"><failure message="assert 1 == 2">trace</failure></testcase><testcase classname="t" name="test_skip"><skipped/></testcase></testsuite></testsuites>',
    )
    assert.deepEqual(
      (await readJunit(pytest)).map((t) => [t.name, t.status, t.message]),
      [
        ['test_ok', 'passed', undefined],
        ['test_bad', 'failed', 'assert 1 == 2'],
        ['test_skip', 'skipped', undefined],
      ],
    )
    const mocha = path.join(dir, 'mocha.xml')
    await writeFile(
      mocha,
      '<testsuites name="Mocha Tests"><testsuite name="Root Suite" tests="0"></testsuite><testsuite name="s" tests="1"><testcase name="s works" classname="works" time="0.01"></testcase></testsuite></testsuites>',
    )
    assert.deepEqual(
      (await readJunit(mocha)).map((t) => [t.name, t.status]),
      [['s works', 'passed']],
    )
    assert.deepEqual(await readJunit(path.join(dir, 'missing.xml')), [])
  })

  it("VM types come from the core registry: ovirt-engine and ovirt-host defaults, the init file's artifacts first", () => {
    registerOvirtVmTypes()
    registerOvirtVmTypes()
    assert.equal(registeredVmTypes().filter((t) => t.name === 'ovirt-engine').length, 1)
    assert.deepEqual(vmArtifacts({vmType: 'ovirt-engine', artifacts: []}), ['/var/log/ovirt-engine'])
    assert.deepEqual(vmArtifacts({vmType: 'ovirt-host', artifacts: []}), ['/var/log/vdsm'])
    assert.deepEqual(vmArtifacts({vmType: 'ovirt-host', artifacts: ['/tmp/x']}), ['/tmp/x'])
    assert.deepEqual(vmServices({vmType: 'ovirt-engine'}), ['ovirt-engine'])
    assert.deepEqual(vmArtifacts({vmType: 'unknown', artifacts: []}), [])
    registerVmType({name: 'my-db', artifacts: ['/var/log/db']})
    assert.deepEqual(findVmType('my-db')?.artifacts, ['/var/log/db'])
  })

  it("points each guest at its distro's directory of the served repository", () => {
    const text = guestRepoFile('http://192.168.200.1:8585/', 'el8')
    assert.match(text, /^\[lago-internal-el8\]$/m)
    assert.match(text, /^baseurl=http:\/\/192\.168\.200\.1:8585\/el8\/$/m)
    assert.match(text, /^gpgcheck=0$/m)
  })
})
