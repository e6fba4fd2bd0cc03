import assert from 'node:assert/strict'
import {execa} from 'execa'
import {mayNeedTranslation, translateArgv, type CommandInfo} from '../../packages/cli/src/compat/argv.js'
import {shellAction, splitAfterFirstArg} from '../../packages/cli/src/compat/shell-words.js'
import {LAGO_BIN} from '../lib/harness.js'

const base = {'log-level': {type: 'option'}, 'prefix-path': {type: 'option', char: 'p'}, 'prefix-name': {type: 'option', char: 'P'}, json: {type: 'boolean'}}
const COMMANDS: Record<string, CommandInfo> = Object.fromEntries(
  [
    {id: 'status', flags: {...base, 'out-format': {type: 'option', char: 'f'}}},
    {id: 'export', flags: {...base, output: {type: 'option', char: 'o'}, vm: {type: 'option', char: 'n'}, 'init-file-format': {type: 'option'}, standalone: {type: 'boolean'}}},
    {id: 'destroy', flags: {...base, yes: {type: 'boolean'}, 'all-prefixes': {type: 'boolean'}}},
    {id: 'start', flags: base},
    {id: 'init', flags: base},
    {id: 'list', flags: base},
    {id: 'shell', flags: {...base, command: {type: 'option', char: 'c'}}},
    {id: 'ansible-hosts', flags: {...base, format: {type: 'option'}, key: {type: 'option'}}},
    {id: 'ovirt:reposetup', flags: {...base, build: {type: 'option'}}},
  ].map((c) => [c.id, c as CommandInfo]),
)
const find = (id: string) => COMMANDS[id]
const translate = (line: string) => translateArgv(line.split(' '), find)

describe('original command lines (global options before the verb, old flag spellings)', () => {
  it("OST 2019's export and destroy lines", () => {
    assert.deepEqual(translate('--out-format yaml export --dst-dir exported_images --standalone'), {
      argv: ['export', '--output', 'exported_images', '--standalone'],
      env: {},
      notices: [],
    })
    assert.deepEqual(translate('--workdir /p destroy --yes --all-prefixes').argv, ['destroy', '--prefix-path', '/p', '--yes', '--all-prefixes'])
    assert.deepEqual(translate('-f json export -d out').argv, ['export', '--init-file-format', 'json', '--output', 'out'])
  })

  it('every global option: flags, configuration through the environment, or a one-line notice', () => {
    const t = translate('-l debug --logdepth 3 -f flat -P second --ssh-user admin --libvirt_url qemu+ssh://hv/system --lease_dir /l --reposync-dir /r --ssh-tries 5 status')
    assert.deepEqual(t.argv, ['status', '--log-level', 'debug', '--prefix-name', 'second', '--out-format', 'flat'])
    assert.deepEqual(t.env, {LAGO__SSH__USER: 'admin', LAGO__LIBVIRT__URI: 'qemu+ssh://hv/system', LAGO_LEASE_DIR: '/l', LAGO__OVIRT__REPOSYNC_DIR: '/r'})
    assert.equal(t.notices.length, 2)
    assert.match(t.notices[0], /^--logdepth is accepted for compatibility and ignored: /)
    assert.match(t.notices[1], /^--ssh-tries is accepted for compatibility and ignored: /)
    assert.deepEqual(translate('--ignore-warnings --logdepth 3 -p /x start').notices, [])
    assert.deepEqual(translate('--prefix-path=/x --loglevel=error start').argv, ['start', '--log-level', 'error', '--prefix-path', '/x'])
  })

  it('argparse abbreviations of long options, and clear errors', () => {
    assert.deepEqual(translate('--work /w --out json status').argv, ['status', '--prefix-path', '/w', '--out-format', 'json'])
    assert.match(translate('--prefix /x status').error ?? '', /--prefix is ambiguous: it could be --prefix-path or --prefix-name/)
    assert.match(translate('-f xml status').error ?? '', /-f: "xml" is not one of default, json, yaml, flat/)
    assert.match(translate('--workdir').error ?? '', /--workdir needs a value/)
  })

  it('-w names the workdir of list; -f json is --json where there is no formatter', () => {
    assert.deepEqual(translate('-w /w list').argv, ['list', '/w'])
    assert.deepEqual(translate('-f json start').argv, ['start', '--json'])
    assert.deepEqual(translate('-f yaml start').notices, ['--out-format yaml has no effect on "start".'])
  })

  it('verb flags: export -n VM..., ansible_hosts -k KEY..., ovirt reposetup source trees; meaningless ones get a notice', () => {
    assert.deepEqual(translate('export -n vm0 vm1 --compress --dst-dir o').argv, ['export', '--vm', 'vm0', '--vm', 'vm1', '--output', 'o'])
    assert.match(translate('export -n vm0 --compress -d o').notices[0], /^--compress is accepted for compatibility and ignored/)
    assert.deepEqual(translate('ansible-hosts -k vm-type groups').argv, ['ansible-hosts', '--key', 'vm-type', '--key', 'groups'])
    assert.deepEqual(translate('ovirt reposetup --engine-dir /src/engine --skip-sync').argv, ['ovirt', 'reposetup', '--build', '/src/engine', '--skip-sync'])
  })

  it('the launcher only loads the command list for lines that may need translating', () => {
    for (const line of ['--workdir x destroy', '-f json status', 'export -d x', 'ansible_hosts --keys a', 'ovirt reposetup --engine-dir d', '--version'])
      assert.ok(mayNeedTranslation(line.split(' ')), line)
    for (const line of ['status --json', 'shell vm0 -c x', 'ovirt deploy', '--help', '']) assert.ok(!mayNeedTranslation(line.split(' ').filter(Boolean)), line)
  })

  it('new command lines pass through unchanged', () => {
    for (const line of ['status --json', 'export --output o --vm vm0', 'shell vm0 -c hostname', 'ovirt reposetup --build x', '--help', 'nosuchverb --x']) {
      assert.deepEqual(translate(line).argv, line.split(' '), line)
    }
  })

  it('global options go before the VM of shell, whose words are never options', () => {
    assert.deepEqual(translate('-p /x shell vm0 -c echo hi').argv, ['shell', '--prefix-path', '/x', 'vm0', '-c', 'echo', 'hi'])
  })
})

describe('lago shell VM WORDS (the original rule)', () => {
  const isFile = (path: string) => path === 'script.sh'
  it('no words: interactive; one existing local file: script; else the command, leading -c dropped', () => {
    assert.deepEqual(shellAction([], isFile), {kind: 'interactive'})
    assert.deepEqual(shellAction(['script.sh'], isFile), {kind: 'script', file: 'script.sh'})
    assert.deepEqual(shellAction(['ls', '/tmp'], isFile), {kind: 'command', command: 'ls /tmp'})
    assert.deepEqual(shellAction(['-c', 'echo', 'hi'], isFile), {kind: 'command', command: 'echo hi'})
    assert.deepEqual(shellAction(['-c', 'echo hi; exit 3'], isFile), {kind: 'command', command: 'echo hi; exit 3'})
    assert.deepEqual(shellAction(['missing.sh'], isFile), {kind: 'command', command: 'missing.sh'})
  })

  it('flags before the VM are parsed, words after it are not', () => {
    const values = new Set(['--prefix-path', '-p', '-c', '--command'])
    assert.deepEqual(splitAfterFirstArg(['-p', '/x', 'vm0', '-c', 'ls', '--prefix-path'], values), {head: ['-p', '/x', 'vm0'], words: ['-c', 'ls', '--prefix-path']})
    assert.deepEqual(splitAfterFirstArg(['vm0'], values), {head: ['vm0'], words: []})
  })
})

describe('the lago binary reads original command lines', () => {
  it('"lago --workdir DIR destroy --yes --all-prefixes" and "lago --out-format yaml export" reach their verbs', async () => {
    const destroy = await execa(LAGO_BIN, ['--workdir', '/nonexistent-lago-workdir', 'destroy', '--yes', '--all-prefixes'], {reject: false})
    assert.equal(destroy.exitCode, 2)
    assert.doesNotMatch(destroy.stderr, /command .* not found/)
    assert.match(destroy.stderr, /\/nonexistent-lago-workdir is not a Lago (workdir|prefix)/)
    const exported = await execa(LAGO_BIN, ['--out-format', 'yaml', 'export', '--dst-dir', 'x', '--standalone'], {reject: false, cwd: '/'})
    assert.equal(exported.exitCode, 2)
    assert.match(exported.stderr, /Not inside a Lago prefix/)
    assert.equal((await execa(LAGO_BIN, ['--version'])).stdout, 'lago 0.1.0')
    const plugin = await execa(LAGO_BIN, ['--logdepth', '2', 'ovirt', 'start', '--with-vms', '--vms-timeout', '480'], {reject: false, cwd: '/'})
    assert.equal(plugin.exitCode, 2)
    assert.deepEqual(
      plugin.stderr
        .split('\n')
        .filter((l) => l.startsWith('Notice:'))
        .map((l) => l.split(' is accepted')[0]),
      ['Notice: --logdepth', 'Notice: --with-vms', 'Notice: --vms-timeout'],
    )
    assert.match(plugin.stderr, /Not inside a Lago prefix/)
    const bad = await execa(LAGO_BIN, ['--loglevel', 'loud', 'status'], {reject: false})
    assert.equal(bad.exitCode, 2)
    assert.match(bad.stderr, /^Error: --loglevel: "loud" is not one of info, debug, error, warning\.$/m)
  })
})

describe("the original's output formats", () => {
  it('default: keys sorted, mappings as [key]: indented by 4, empty values left out; lists one item per line', async () => {
    const {formatValue} = await import('../../packages/cli/src/output-format.js')
    const tree = {Prefix: {UUID: 'abc', 'Base directory': '/p', VMs: {vm0: {status: 'running', snapshots: '', metadata: {}, NICs: {eth0: {ip: '192.168.200.2', network: 'lago'}}}}}}
    assert.equal(
      await formatValue(tree, 'default'),
      [
        '[Prefix]:',
        '    Base directory: /p',
        '    UUID: abc',
        '    [VMs]:',
        '        [vm0]:',
        '            [NICs]:',
        '                [eth0]:',
        '                    ip: 192.168.200.2',
        '                    network: lago',
        '            status: running',
      ].join('\n'),
    )
    assert.equal(await formatValue(['default', 'second'], 'default'), 'default\nsecond')
    assert.equal(await formatValue({a: {b: 1, c: [2, 3]}}, 'flat'), 'a/b: 1\na/c/0: 2\na/c/1: 3')
  })
})
