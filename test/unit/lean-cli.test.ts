import assert from 'node:assert/strict'
import {mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import {execa} from 'execa'
import {leanCommandLine} from '../../packages/cli/src/lean/command-line.js'
import {installedCommands} from '../../packages/cli/src/lean/installation.js'
import {LAGO_BIN, REPO_ROOT} from '../lib/harness.js'
import {recordPrefixEvents} from '../../packages/cli/src/ci-events.js'
import {unlessNotInstalled} from '../../packages/core/src/providers/remote/uri.js'

describe('status and shell without oclif (the lean path)', () => {
  let dir: string
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'lago-lean-'))
  })
  after(() => rm(dir, {recursive: true, force: true}))

  it('takes only the command lines it runs as oclif would: status [--json], shell VM WORDS', () => {
    assert.deepEqual(leanCommandLine(['status'], {}), {verb: 'status', json: false, argv: []})
    assert.deepEqual(leanCommandLine(['status', '--json'], {}), {verb: 'status', json: true, argv: ['--json']})
    assert.deepEqual(leanCommandLine(['shell', 'vm0', '-c', 'exit 3'], {}), {verb: 'shell', vm: 'vm0', words: ['-c', 'exit 3'], json: false, argv: ['vm0']})
    // Words after the VM are the command's, never options.
    assert.deepEqual(leanCommandLine(['shell', 'vm0', '--help'], {}), {verb: 'shell', vm: 'vm0', words: ['--help'], json: false, argv: ['vm0']})
    for (const argv of [['status', '-p', 'x'], ['status', '--out-format', 'yaml'], ['shell', 'vm0'], ['shell', '-c', 'true', 'vm0'], ['start'], [], ['--version']]) {
      assert.equal(leanCommandLine(argv, {}), undefined, argv.join(' '))
    }
    assert.equal(leanCommandLine(['status'], {LAGO_NO_LEAN: '1'}), undefined)
  })

  it("reads every command's flags from the manifests, and yields to oclif for a plugin that hooks into every command", async () => {
    const real = installedCommands({...process.env, LAGO_DATA_DIR: path.join(REPO_ROOT, '.data')})
    assert.ok(real?.some((c) => c.id === 'status') && real.some((c) => c.id === 'ovirt:deploy') && real.some((c) => c.id === 'plugins:install'))
    const plugin = async (name: string, hooks: Record<string, string>, manifest = true) => {
      const root = path.join(dir, name.replace('/', '_'))
      await mkdir(root, {recursive: true})
      await writeFile(path.join(root, 'package.json'), JSON.stringify({name, oclif: {hooks}}))
      if (manifest) await writeFile(path.join(root, 'oclif.manifest.json'), JSON.stringify({commands: {hello: {id: 'hello', flags: {}}}}))
      const data = path.join(dir, `data-${name.replace('/', '_')}`)
      await mkdir(data, {recursive: true})
      await writeFile(path.join(data, 'package.json'), JSON.stringify({oclif: {plugins: [{name, type: 'link', root}]}}))
      return installedCommands({LAGO_DATA_DIR: data})
    }
    assert.ok((await plugin('@lago/own', {init: './lib/hooks/init.js'}))?.some((c) => c.id === 'hello'))
    assert.ok((await plugin('quiet-plugin', {update: './lib/update.js'}))?.some((c) => c.id === 'hello'))
    assert.equal(await plugin('foreign-plugin', {init: './lib/hooks/init.js'}), undefined)
    assert.equal(await plugin('prerun-plugin', {prerun: './lib/hooks/prerun.js'}), undefined)
    assert.equal(await plugin('no-manifest', {}, false), undefined)
  })

  it('fails as oclif does: the same error, exit code and --json', async () => {
    const run = (args: string[], lean: boolean, env: Record<string, string> = {}) =>
      execa(LAGO_BIN, args, {cwd: dir, reject: false, env: {LAGO_PREFIX_PATH: '', XDG_CONFIG_HOME: dir, LAGO_SYSTEM_CONFIG_DIR: dir, ...env, ...(lean ? {} : {LAGO_NO_LEAN: '1'})}})
    const badSetting = {LAGO__LIBVIRT__DOMAIN_TYPE: 'xen'}
    for (const [args, env] of [[['status']], [['status', '--json']], [['shell', 'vm0', 'true']], [['status'], badSetting], [['shell', 'vm0', 'true'], badSetting]] as [
      string[],
      Record<string, string>?,
    ][]) {
      const [lean, oclif] = [await run(args, true, env), await run(args, false, env)]
      assert.equal(lean.exitCode, 2, args.join(' '))
      if (env) assert.match(lean.stderr, /Invalid value "xen" for libvirt\.domain_type/)
      assert.equal(lean.exitCode, oclif.exitCode, args.join(' '))
      assert.equal(lean.stdout, oclif.stdout, args.join(' '))
      assert.equal(lean.stderr, oclif.stderr, args.join(' '))
    }
  })
})

describe('what the lean path and the CLI tolerate while reading and writing', () => {
  it('the prefix event log: only a prefix this user may not write is left unrecorded; any other failure names the file', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'lago-events-'))
    try {
      await writeFile(path.join(dir, 'not-a-dir'), '')
      assert.throws(() => recordPrefixEvents({root: dir, events: path.join(dir, 'not-a-dir', 'events.ndjson')}), /Cannot write events to .*not-a-dir\/events\.ndjson: E[A-Z]+\./)
      const sink = recordPrefixEvents({root: dir, events: path.join(dir, '.lago', 'events.ndjson')})
      assert.ok(sink)
      sink.close()
    } finally {
      await rm(dir, {recursive: true, force: true})
    }
  })

  it('an ssh tool that is not installed gives no answer; any other failure of it is thrown', () => {
    assert.equal(unlessNotInstalled(Object.assign(new Error('spawn ssh ENOENT'), {code: 'ENOENT'})), undefined)
    assert.throws(() => unlessNotInstalled(Object.assign(new Error('spawn ssh EACCES'), {code: 'EACCES'})), /EACCES/)
  })
})
