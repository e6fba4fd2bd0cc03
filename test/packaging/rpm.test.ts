import assert from 'node:assert/strict'
import {mkdtemp, readFile, rename, rm, writeFile} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import {execa} from 'execa'
import {REPO_ROOT} from '../lib/harness.js'
import {buildRpms, type RpmBuildResult} from '../../scripts/lib/rpm-build.js'
import {resolveVersion} from '../../scripts/lib/resolve-version.js'
import {formatVersion} from '../../scripts/lib/version.js'
import {polkitRule} from '../../packages/core/src/host/setup.js'

const rpmQuery = (args: string[]) => execa('rpm', ['-qp', ...args]).then((r) => r.stdout.split('\n').filter(Boolean))
/** Requirements other than rpmlib() features and interpreters rpm finds by itself. */
const requiresOf = async (file: string) => (await rpmQuery(['-R', file])).filter((r) => !r.startsWith('rpmlib(') && !r.startsWith('/')).sort()

/** Installs RPMs into an empty root the way a packager's scratch chroot would (no dependencies, no scriptlets: there is no shell in it). */
async function installInto(rpms: string[]): Promise<string> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'lago-rpmroot-'))
  await execa('rpm', ['--root', root, '--initdb'])
  await execa('rpm', ['-i', '--root', root, '--nodeps', '--noscripts', ...rpms])
  return root
}

describe('RPMs (npm run rpm)', () => {
  let tmp: string
  let build: RpmBuildResult
  let version: string
  const rpm = (name: string) => build.rpms.find((f) => path.basename(f) === `${name}-${version}-1.el9.noarch.rpm`)!
  const roots: string[] = []

  before(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'lago-rpm-test-'))
    version = formatVersion((await resolveVersion(REPO_ROOT)).version)
    const started = Date.now()
    // Fast payload compression: this checks contents, not the release compression.
    build = await buildRpms({out: tmp, dist: 'el9', payload: 'w1.gzdio'})
    console.log(`      (rpm build took ${((Date.now() - started) / 1000).toFixed(1)} s)`)
  })
  after(async () => {
    for (const dir of [tmp, ...roots]) await rm(dir, {recursive: true, force: true})
  })

  it('builds nodejs-lago, lago and lago-ovirt (noarch) at the version-manager version, and the sources', () => {
    assert.equal(build.version, version)
    assert.deepEqual(build.rpms.map((f) => path.basename(f)).sort(), [`lago-${version}-1.el9.noarch.rpm`, `lago-ovirt-${version}-1.el9.noarch.rpm`, `nodejs-lago-${version}-1.el9.noarch.rpm`])
    assert.deepEqual(build.sources.map((f) => path.basename(f)).sort(), [`lago-${version}-1.el9.src.rpm`, `lago-cli-${version}.tgz`, `lago-core-${version}.tgz`, `lago-plugin-ovirt-${version}.tgz`])
  })

  it('file lists: each package where it belongs, no file in two RPMs, no native code', async () => {
    const files = new Map<string, string[]>()
    for (const name of ['nodejs-lago', 'lago', 'lago-ovirt']) files.set(name, await rpmQuery(['-l', rpm(name)]))
    const has = (name: string, expected: string[]) => {
      for (const file of expected) assert.ok(files.get(name)!.includes(file), `${name} lacks ${file}`)
    }
    const modules = '/usr/lib/lago/node_modules'
    has('nodejs-lago', [
      `${modules}/@lago/core/package.json`,
      `${modules}/@lago/core/lib/index.js`,
      `${modules}/@lago/core/schema/init-file.schema.json`,
      `${modules}/ajv/package.json`,
      `${modules}/ssh2/package.json`,
      '/etc/polkit-1/rules.d/50-lago.rules',
      '/etc/lago.d',
      '/var/lib/lago/store',
      '/var/lib/lago/repos',
      '/var/lib/lago/subnets',
    ])
    has('lago', [
      '/usr/bin/lago',
      '/usr/bin/lagocli',
      '/usr/lib/lago/bin/lago',
      '/usr/lib/lago/plugins.d',
      `${modules}/@lago/cli/bin/run.js`,
      `${modules}/@lago/cli/oclif.manifest.json`,
      `${modules}/@oclif/core/package.json`,
      `${modules}/@oclif/plugin-plugins/package.json`,
      `${modules}/listr2/package.json`,
    ])
    has('lago-ovirt', [
      '/usr/lib/lago/plugins.d/lago-ovirt',
      `${modules}/@lago/plugin-ovirt/package.json`,
      `${modules}/@lago/plugin-ovirt/lib/index.js`,
      `${modules}/@lago/plugin-ovirt/oclif.manifest.json`,
    ])
    assert.ok(!files.get('lago-ovirt')!.some((f) => f.includes('@oclif/core') || f.includes('@lago/core')), 'the plugin must use the CLI copy of oclif and core')
    const regular = async (name: string) => (await rpmQuery(['--qf', '[%{FILEMODES:perms} %{FILENAMES}\n]', rpm(name)])).filter((l) => !l.startsWith('d')).map((l) => l.split(' ')[1])
    const seen = new Map<string, string>()
    for (const name of files.keys()) {
      for (const file of await regular(name)) {
        assert.ok(!seen.has(file), `${file} is in ${seen.get(file)} and ${name}`)
        seen.set(file, name)
      }
    }
    assert.deepEqual(
      [...seen.keys()].filter((f) => f.endsWith('.node')),
      [],
      'no native add-ons in noarch RPMs',
    )
  })

  it('requires: system nodejs; the CLI libvirt, qemu and ssh (seeds are written in-process: no ISO tool); the plugin dnf-plugins-core and createrepo_c', async () => {
    const release = `${version}-1.el9`
    assert.deepEqual(await requiresOf(rpm('nodejs-lago')), ['config(nodejs-lago) = ' + release, 'nodejs', 'nodejs(engine) >= 20.19', 'shadow-utils'])
    assert.deepEqual(await requiresOf(rpm('lago')), [
      'libvirt-client',
      'libvirt-daemon-kvm',
      'nodejs',
      'nodejs(engine) >= 20.19',
      `nodejs-lago = ${release}`,
      'openssh-clients',
      'qemu-img',
      'qemu-kvm',
    ])
    assert.deepEqual(await requiresOf(rpm('lago-ovirt')), ['createrepo_c', 'dnf-plugins-core', `lago = ${release}`])
    const scripts = (await execa('rpm', ['-qp', '--scripts', rpm('nodejs-lago')])).stdout
    assert.match(scripts, /preinstall scriptlet[\s\S]*getent group lago >\/dev\/null \|\| groupadd --system lago/)
  })

  it('declares every bundled npm package as bundled(npm(NAME)) = VERSION', async () => {
    const provides = async (name: string) => (await rpmQuery(['--provides', rpm(name)])).filter((p) => p.startsWith('bundled('))
    const oclifVersion = JSON.parse(await readFile(path.join(REPO_ROOT, 'node_modules/@oclif/core/package.json'), 'utf8')).version
    assert.ok((await provides('lago')).includes(`bundled(npm(@oclif/core)) = ${oclifVersion}`))
    const ajvVersion = JSON.parse(await readFile(path.join(REPO_ROOT, 'node_modules/ajv/package.json'), 'utf8')).version
    assert.ok((await provides('nodejs-lago')).includes(`bundled(npm(ajv)) = ${ajvVersion}`))
    assert.ok(!(await provides('lago')).some((p) => p.startsWith('bundled(npm(ajv))')), 'core brings ajv: the CLI must not bundle it again')
    const ovirt = await provides('lago-ovirt')
    const mochaVersion = JSON.parse(await readFile(path.join(REPO_ROOT, 'node_modules/mocha/package.json'), 'utf8')).version
    assert.ok(ovirt.includes(`bundled(npm(mocha)) = ${mochaVersion}`), 'the plugin bundles its own runtime dependencies (mocha runs scenarios)')
    assert.ok(!ovirt.some((p) => /^bundled\(npm\((@oclif\/core|ajv|ssh2)\)\)/.test(p)), 'what core and the CLI bring is not bundled again')
  })

  it('installed into a scratch root: lago --help (system node) shows the ovirt topic from lago-ovirt, and not without it', async () => {
    const full = await installInto(build.rpms)
    roots.push(full)
    const help = await execa('node', [path.join(full, 'usr/bin/lago'), '--help'], {cwd: full, env: {HOME: full}})
    assert.match(help.stdout, /^ {2}ovirt\s+oVirt system tests/m)
    assert.match(help.stdout, /^ {2}init\s/m)
    assert.equal(help.stderr, '')
    const lagocli = await execa('node', [path.join(full, 'usr/bin/lagocli'), '--version'], {cwd: full, env: {HOME: full}})
    assert.equal(lagocli.stdout, `lago ${version}`, "the original's --version output")
    // The original's command lines: global options before the verb, plugin flags with a notice.
    const destroy = await execa('node', [path.join(full, 'usr/bin/lago'), '--workdir', path.join(full, 'none'), 'destroy', '--yes', '--all-prefixes'], {cwd: full, env: {HOME: full}, reject: false})
    assert.equal(destroy.exitCode, 2)
    assert.match(destroy.stderr, /none is not a Lago (workdir|prefix)/)
    const reposetup = await execa('node', [path.join(full, 'usr/bin/lago'), 'ovirt', 'reposetup', '--repo-name', 'x'], {cwd: full, env: {HOME: full}, reject: false})
    assert.match(reposetup.stderr, /^Notice: --repo-name is accepted for compatibility and ignored: /m)
    assert.equal(await readFile(path.join(full, 'etc/polkit-1/rules.d/50-lago.rules'), 'utf8'), polkitRule('lago'))

    // status, start, stop and shell take the lean path here too (with lago-ovirt's init hook):
    // with oclif moved out of the installed tree they answer exactly as oclif does with it.
    const lago = (args: string[], env: Record<string, string> = {}) =>
      execa('node', [path.join(full, 'usr/bin/lago'), ...args], {cwd: full, reject: false, env: {HOME: full, LAGO_PREFIX_PATH: '', LAGO_SYSTEM_CONFIG_DIR: full, XDG_CONFIG_HOME: full, ...env}})
    const leanVerbs = [['status'], ['stop', '--json'], ['shell', 'vm0', 'true']]
    const byOclif = await Promise.all(leanVerbs.map((args) => lago(args, {LAGO_NO_LEAN: '1'})))
    const oclifCore = path.join(full, 'usr/lib/lago/node_modules/@oclif/core')
    await rename(oclifCore, `${oclifCore}.away`)
    try {
      for (const [i, args] of leanVerbs.entries()) {
        const lean = await lago(args)
        assert.equal(lean.exitCode, 2, `${args.join(' ')}: ${lean.stderr}`)
        assert.match(lean.stdout + lean.stderr, /Not inside a Lago prefix/)
        assert.deepEqual([lean.exitCode, lean.stdout, lean.stderr], [byOclif[i].exitCode, byOclif[i].stdout, byOclif[i].stderr], args.join(' '))
      }
      assert.equal((await lago(['--version'])).stdout, `lago ${version}`)
      assert.notEqual((await lago(['status'], {LAGO_NO_LEAN: '1'})).exitCode, 0, 'oclif itself is really gone')
    } finally {
      await rename(`${oclifCore}.away`, oclifCore)
    }

    // A plugins.d entry that is not a package name is passed over with a warning, never followed.
    const bad = path.join(full, 'usr/lib/lago/plugins.d/zz-bad')
    await writeFile(bad, '../../../../etc\n')
    const warned = await lago(['--version'])
    assert.equal(warned.stdout, `lago ${version}`)
    assert.equal(warned.stderr, `Warning: ignoring ${bad}: "../../../../etc" is not an npm package name (like "@lago/plugin-ovirt").`)
    await rm(bad)

    const withoutPlugin = await installInto([rpm('nodejs-lago'), rpm('lago')])
    roots.push(withoutPlugin)
    const plain = await execa('node', [path.join(withoutPlugin, 'usr/bin/lago'), '--help'], {cwd: withoutPlugin, env: {HOME: withoutPlugin}})
    assert.doesNotMatch(plain.stdout, /^ {2}ovirt\s/m)
    assert.equal(plain.stderr, '')
  })
})
