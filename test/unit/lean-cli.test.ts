import assert from 'node:assert/strict'
import {mkdir, mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import {execa} from 'execa'
import {leanCommandLine} from '../../packages/cli/src/lean/command-line.js'
import {installation} from '../../packages/cli/src/lean/installation.js'
import {fastPath, ownCli, storeHelp, type LaunchedCli} from '../../packages/cli/src/fast-path.js'
import {LAGO_BIN, REPO_ROOT} from '../lib/harness.js'
import {recordPrefixEvents} from '../../packages/cli/src/ci-events.js'
import {unlessNotInstalled} from '../../packages/core/src/providers/remote/uri.js'

describe('status, start, stop and shell without oclif (the lean path)', () => {
  let dir: string
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'lago-lean-'))
  })
  after(() => rm(dir, {recursive: true, force: true}))

  it('takes only the command lines it runs as oclif would: status [--json], start [VM...] [--json], stop [VM...] [--save] [--json], shell VM WORDS', () => {
    assert.deepEqual(leanCommandLine(['status'], {}), {verb: 'status', json: false, argv: []})
    assert.deepEqual(leanCommandLine(['status', '--json'], {}), {verb: 'status', json: true, argv: ['--json']})
    assert.deepEqual(leanCommandLine(['shell', 'vm0', '-c', 'exit 3'], {}), {verb: 'shell', vm: 'vm0', words: ['-c', 'exit 3'], json: false, argv: ['vm0']})
    // Words after the VM are the command's, never options.
    assert.deepEqual(leanCommandLine(['shell', 'vm0', '--help'], {}), {verb: 'shell', vm: 'vm0', words: ['--help'], json: false, argv: ['vm0']})
    assert.deepEqual(leanCommandLine(['start'], {}), {verb: 'start', vms: [], json: false, argv: []})
    assert.deepEqual(leanCommandLine(['start', 'vm0', '--json', 'vm1'], {}), {verb: 'start', vms: ['vm0', 'vm1'], json: true, argv: ['vm0', '--json', 'vm1']})
    assert.deepEqual(leanCommandLine(['stop'], {}), {verb: 'stop', vms: [], json: false, save: false, argv: []})
    assert.deepEqual(leanCommandLine(['stop', 'vm1', '--save', '--json'], {}), {verb: 'stop', vms: ['vm1'], json: true, save: true, argv: ['vm1', '--save', '--json']})
    for (const argv of [
      ['status', '-p', 'x'],
      ['status', '--out-format', 'yaml'],
      ['shell', 'vm0'],
      ['shell', '-c', 'true', 'vm0'],
      ['start', '--cold'],
      ['start', 'vm0', '--no-wait'],
      ['start', '--json', '--json'],
      ['start', '--', 'vm0'],
      ['start', '--save'],
      ['stop', '--save', '--save'],
      ['stop', '-p', 'x'],
      ['stop', 'vm0', '--cold'],
      [],
      ['--version'],
    ]) {
      assert.equal(leanCommandLine(argv, {}), undefined, argv.join(' '))
    }
    assert.equal(leanCommandLine(['status'], {LAGO_NO_LEAN: '1'}), undefined)
    // oclif's --json from the environment.
    assert.equal(leanCommandLine(['status'], {LAGO_CONTENT_TYPE: 'json'}), undefined)
  })

  it("reads every command's flags from the manifests and this project's init hooks, and yields to oclif for a plugin of another project that hooks into every command", async () => {
    const real = installation({...process.env, LAGO_DATA_DIR: path.join(REPO_ROOT, '.data')})
    const commands = real?.commands
    assert.ok(commands?.some((c) => c.id === 'status') && commands.some((c) => c.id === 'ovirt:deploy') && commands.some((c) => c.id === 'plugins:install'))
    assert.deepEqual(real?.initHooks, [path.join(REPO_ROOT, 'packages/plugin-ovirt/lib/hooks/init.js')])
    const plugin = async (name: string, hooks: Record<string, string>, manifest = true) => {
      const root = path.join(dir, name.replace('/', '_'))
      await mkdir(root, {recursive: true})
      await writeFile(path.join(root, 'package.json'), JSON.stringify({name, oclif: {hooks}}))
      if (manifest) await writeFile(path.join(root, 'oclif.manifest.json'), JSON.stringify({commands: {hello: {id: 'hello', flags: {}}}}))
      const data = path.join(dir, `data-${name.replace('/', '_')}`)
      await mkdir(data, {recursive: true})
      await writeFile(path.join(data, 'package.json'), JSON.stringify({oclif: {plugins: [{name, type: 'link', root}]}}))
      return installation({LAGO_DATA_DIR: data})
    }
    const own = await plugin('@lago/own', {init: './lib/hooks/init.js'})
    assert.ok(own?.commands.some((c) => c.id === 'hello'))
    assert.ok(own?.initHooks.some((hook) => hook.endsWith('@lago_own/lib/hooks/init.js')))
    assert.ok((await plugin('quiet-plugin', {update: './lib/update.js'}))?.commands.some((c) => c.id === 'hello'))
    assert.equal(await plugin('foreign-plugin', {init: './lib/hooks/init.js'}), undefined)
    assert.equal(await plugin('prerun-plugin', {prerun: './lib/hooks/prerun.js'}), undefined)
    assert.equal(await plugin('@lago/prerun', {prerun: './lib/hooks/prerun.js'}), undefined)
    assert.equal(await plugin('no-manifest', {}, false), undefined)
  })

  it("reads the plugins a launcher runs as core plugins (the RPM's, from plugins.d) like the CLI's own: their commands, init hooks and help", async () => {
    const own = ownCli()!
    const data = path.join(dir, 'data-none')
    await mkdir(data, {recursive: true})
    const withOvirt: LaunchedCli = {root: own.root, pjson: {...own.pjson, oclif: {...own.pjson.oclif, plugins: [...(own.pjson.oclif?.plugins ?? []), '@lago/plugin-ovirt']}}}
    const plain = installation({LAGO_DATA_DIR: data}, own)
    const rpmLike = installation({LAGO_DATA_DIR: data}, withOvirt)
    assert.ok(plain && !plain.commands.some((c) => c.id === 'ovirt:deploy'))
    assert.deepEqual(plain.initHooks, [])
    assert.ok(rpmLike?.commands.some((c) => c.id === 'ovirt:deploy'))
    assert.deepEqual(rpmLike.initHooks, [path.join(REPO_ROOT, 'node_modules/@lago/plugin-ovirt/lib/hooks/init.js')])
    // The help oclif printed for one set of plugins is not the help of another.
    const env = {LAGO_DATA_DIR: data, XDG_CACHE_HOME: path.join(dir, 'cache')}
    storeHelp(['--help'], 'help without the ovirt topic\n', env, own)
    const answered = (cli: LaunchedCli) => {
      const write = process.stdout.write.bind(process.stdout)
      let text = ''
      process.stdout.write = (chunk: string | Uint8Array) => ((text += String(chunk)), true)
      try {
        return fastPath(['--help'], env, cli) ? text : undefined
      } finally {
        process.stdout.write = write
      }
    }
    assert.equal(answered(own), 'help without the ovirt topic\n')
    assert.equal(answered(withOvirt), undefined)
  })

  it('fails as oclif does: the same error, exit code and --json', async () => {
    const run = (args: string[], lean: boolean, env: Record<string, string> = {}) =>
      execa(LAGO_BIN, args, {cwd: dir, reject: false, env: {LAGO_PREFIX_PATH: '', XDG_CONFIG_HOME: dir, LAGO_SYSTEM_CONFIG_DIR: dir, ...env, ...(lean ? {} : {LAGO_NO_LEAN: '1'})}})
    const badSetting = {LAGO__LIBVIRT__DOMAIN_TYPE: 'xen'}
    for (const [args, env] of [
      [['status']],
      [['status', '--json']],
      [['shell', 'vm0', 'true']],
      [['start']],
      [['start', 'vm0', '--json']],
      [['stop', 'vm0', '--save']],
      [['stop', '--json']],
      [['status'], badSetting],
      [['shell', 'vm0', 'true'], badSetting],
      [['start'], badSetting],
      [['stop', '--save'], badSetting],
    ] as [string[], Record<string, string>?][]) {
      const [lean, oclif] = [await run(args, true, env), await run(args, false, env)]
      assert.equal(lean.exitCode, 2, args.join(' '))
      if (env) assert.match(lean.stderr, /Invalid value "xen" for libvirt\.domain_type/)
      assert.equal(lean.exitCode, oclif.exitCode, args.join(' '))
      assert.equal(lean.stdout, oclif.stdout, args.join(' '))
      assert.equal(lean.stderr, oclif.stderr, args.join(' '))
    }
  })

  it("runs this project's plugins' init hooks as oclif does: before the verb, with its id and argv; a failing hook is passed over, one that stops the command stops it", async () => {
    const root = path.join(dir, 'hooked')
    await mkdir(path.join(root, 'lib'), {recursive: true})
    await writeFile(path.join(root, 'package.json'), JSON.stringify({name: '@lago/hooked', version: '1.0.0', type: 'module', oclif: {hooks: {init: './lib/init.js'}}}))
    await writeFile(path.join(root, 'oclif.manifest.json'), JSON.stringify({version: '1.0.0', commands: {}}))
    const record = path.join(dir, 'hook-calls')
    await writeFile(
      path.join(root, 'lib/init.js'),
      `import {appendFileSync} from 'node:fs'\nexport default async function (options) { appendFileSync(${JSON.stringify(record)}, JSON.stringify({id: options.id, argv: options.argv}) + '\\n'); if (process.env.HOOK_MODE === 'throw') throw new Error('plain failure'); if (process.env.HOOK_MODE === 'stop') this.error('stopped by the hook') }\n`,
    )
    const data = path.join(dir, 'data-hooked')
    await mkdir(data, {recursive: true})
    await writeFile(
      path.join(data, 'package.json'),
      JSON.stringify({
        oclif: {
          plugins: [
            {name: '@lago/plugin-ovirt', type: 'link', root: path.join(REPO_ROOT, 'packages/plugin-ovirt')},
            {name: '@lago/hooked', type: 'link', root},
          ],
        },
      }),
    )
    const env = {LAGO_DATA_DIR: data, LAGO_PREFIX_PATH: '', XDG_CONFIG_HOME: dir, LAGO_SYSTEM_CONFIG_DIR: dir}
    for (const lean of [true, false]) {
      await rm(record, {force: true})
      const result = await execa(LAGO_BIN, ['start', 'vm0', '--json'], {cwd: dir, reject: false, env: {...env, ...(lean ? {} : {LAGO_NO_LEAN: '1'})}})
      assert.equal(result.exitCode, 2, String(result.stderr))
      assert.deepEqual(JSON.parse(await readFile(record, 'utf8')), {id: 'start', argv: ['vm0', '--json']}, lean ? 'lean' : 'oclif')
    }
    for (const mode of ['throw', 'stop']) {
      const [lean, oclif] = await Promise.all([{}, {LAGO_NO_LEAN: '1'}].map((extra) => execa(LAGO_BIN, ['status'], {cwd: dir, reject: false, env: {...env, HOOK_MODE: mode, ...extra}})))
      assert.equal(lean.exitCode, 2, mode)
      if (mode === 'stop') assert.match(lean.stderr, /stopped by the hook/)
      else assert.match(lean.stderr, /Not inside a Lago prefix/)
      assert.equal(lean.exitCode, oclif.exitCode, mode)
      assert.equal(lean.stdout, oclif.stdout, mode)
      assert.equal(lean.stderr, oclif.stderr, mode)
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
