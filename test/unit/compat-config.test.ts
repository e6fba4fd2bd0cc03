import assert from 'node:assert/strict'
import {mkdir, mkdtemp, writeFile} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import {execa} from 'execa'
import {loadConfig, mapOriginalKeys, readConfigLayers} from '@lago/core'
import {verbSectionArgs} from '../../packages/cli/src/compat/config-sections.js'
import {LAGO_BIN} from '../lib/harness.js'

describe("the original Lago's configuration", () => {
  let dir: string
  const env = (extra: Record<string, string> = {}) => ({...process.env, LAGO_SYSTEM_CONFIG_DIR: path.join(dir, 'etc'), XDG_CONFIG_HOME: path.join(dir, 'home'), ...extra})
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'lago-compat-config-'))
    await mkdir(path.join(dir, 'etc'))
    await mkdir(path.join(dir, 'xdg/lago'), {recursive: true})
    await writeFile(
      path.join(dir, 'etc/lago.conf'),
      '[lago]\nlibvirt_url = qemu+ssh://hv/system\nssh_user = admin\nssh_tries = 5\nlease_dir = /srv/subnets\nno_such_key = 1\n[init]\ntemplate_store = /srv/store\ntemplate_repo_path = /srv/repo.json\n[shutdown]\ntimeout = 7\nbogus = 1\n',
    )
  })

  it('maps the original keys onto the new ones; a new-style key in the same file wins', () => {
    const {values, ignored} = mapOriginalKeys({
      lago: {libvirt_url: 'u', ssh_user: 'admin', reposync_dir: '/r', ssh_password: 'x'},
      init: {template_store: '/s', template_repos: '/t'},
      LIBVIRT: {uri: 'new'},
    })
    assert.deepEqual(values, {libvirt: {uri: 'new'}, ssh: {user: 'admin'}, 'ovirt-reposetup': {rpm_repo: '/r'}, lago: {template_store: '/s', template_repos: '/t'}})
    assert.deepEqual(
      ignored.map((i) => `${i.section}.${i.key}`),
      ['lago.ssh_password'],
    )
  })

  it('reads them from files, LAGO_<NAME> and LAGO__SECTION__NAME, with the same precedence', async () => {
    const config = await loadConfig({env: {LAGO__INIT__TEMPLATE_STORE: '/env/store', LAGO_SSH_USER: 'envuser'}, systemDir: path.join(dir, 'etc'), userFile: '/nonexistent'})
    assert.equal(config.libvirt.uri, 'qemu+ssh://hv/system')
    assert.equal(config.lago.template_store, '/env/store')
    assert.equal(config.ssh.user, 'envuser')
    assert.equal(config.lago.lease_dir, '/srv/subnets')
  })

  it('reads $XDG_CONFIG_DIRS/lago/lago.conf', async () => {
    await writeFile(path.join(dir, 'xdg/lago/lago.conf'), '[init]\ntemplate_repos = /xdg/repos\n')
    const layers = await readConfigLayers({env: {XDG_CONFIG_DIRS: path.join(dir, 'xdg'), HOME: dir}, userFile: '/nonexistent'})
    assert.ok(layers.some((l) => l.source === path.join(dir, 'xdg/lago/lago.conf') && l.values.lago?.template_repos === '/xdg/repos'))
  })

  it('LAGO__INIT__TEMPLATE_STORE moves the store of "lago template list" (it was silently ignored)', async () => {
    const result = await execa(LAGO_BIN, ['template', 'list', '--json'], {env: env({LAGO__INIT__TEMPLATE_STORE: path.join(dir, 'store-from-env'), LAGO_TEMPLATE_STORE: ''})})
    assert.equal(JSON.parse(result.stdout).store, path.join(dir, 'store-from-env'))
  })

  it('a verb section gives defaults to the flags not on the command line', () => {
    const flags = {'template-repo-path': {type: 'option'}, 'skip-bootstrap': {type: 'boolean'}, output: {type: 'option', char: 'o', aliases: ['dst-dir']}}
    const layers = [{source: 'f', values: {init: {template_repo_path: '/a', skip_bootstrap: 'true', dst_dir: '/d'}}}]
    assert.deepEqual(verbSectionArgs(layers, 'init', flags, []), ['--template-repo-path', '/a', '--skip-bootstrap', '--output', '/d'])
    assert.deepEqual(verbSectionArgs(layers, 'init', flags, ['--template-repo-path=/b', '-o', 'x']), ['--skip-bootstrap'])
    const globals = [
      {source: 'f', values: {lago: {workdir_path: '/w', prefix_name: 'second', out_format: 'yaml'}}},
      {source: 'the environment', values: {lago: {prefix_path: '/p'}}},
    ]
    const base = {'prefix-path': {type: 'option', char: 'p'}, 'prefix-name': {type: 'option', char: 'P'}, 'out-format': {type: 'option', char: 'f'}}
    assert.deepEqual(verbSectionArgs(globals, 'status', base, []), ['--prefix-path', '/p', '--prefix-name', 'second', '--out-format', 'yaml'], "[lago] holds the global options' defaults")
    assert.deepEqual(verbSectionArgs(globals, 'start', {'prefix-path': base['prefix-path']}, ['-p', '/q']), [])
    const exclusive = {...flags, 'template-repo-path': {type: 'option', exclusive: ['template-repo-name']}, 'template-repo-name': {type: 'option'}}
    assert.deepEqual(verbSectionArgs(layers, 'init', exclusive, ['--template-repo-name', 'mine', '-o', 'x']), ['--skip-bootstrap'], 'a configured default yields to a flag it excludes')
  })

  it('every setting nothing reads is reported once, naming the file and the key', async () => {
    const result = await execa(LAGO_BIN, ['generate-config'], {env: env({LAGO__NOPE__THING: '1', LAGO__SSH__USER: ''})})
    const warnings = result.stderr.split('\n').filter((l) => l.startsWith('Warning:'))
    const file = path.join(dir, 'etc/lago.conf')
    assert.deepEqual(warnings, [
      `Warning: ${file}: [lago] ssh_tries has no effect in this Lago: SSH waits are bounded by [ssh] boot_timeout (seconds).`,
      `Warning: ${file}: [lago] no_such_key is not a Lago setting: nothing reads it.`,
      `Warning: ${file}: [shutdown] bogus is not a Lago setting: nothing reads it.`,
      'Warning: the environment: [ssh] user has no effect in this Lago: LAGO__SSH__USER is empty.',
      'Warning: the environment: [nope] thing is not a Lago setting: nothing reads it.',
    ])
    const quiet = await execa(LAGO_BIN, ['--ignore-warnings', 'generate-config'], {env: env()})
    assert.doesNotMatch(quiet.stderr, /Warning/)
  })

  it('lago generate-config writes a commented file that reads back to the same settings', async () => {
    const first = await execa(LAGO_BIN, ['generate-config'], {env: env({LAGO__INIT__TEMPLATE_REPOS: '/srv/repos'})})
    assert.match(first.stdout, /^# Lago configuration file, generated: /)
    assert.match(first.stdout, /^# libvirt connection .*\nuri = qemu\+ssh:\/\/hv\/system$/m)
    assert.match(first.stdout, /^\[init\]\n(#.*\n|\w.*\n)*template_repo_path = \/srv\/repo\.json$/m)
    assert.match(first.stdout, /^\[shutdown\]\n(#.*\n|\w.*\n)*timeout = 7$/m)
    await mkdir(path.join(dir, 'round'))
    await writeFile(path.join(dir, 'round/lago.conf'), first.stdout)
    const second = await execa(LAGO_BIN, ['generate-config'], {env: env({LAGO_SYSTEM_CONFIG_DIR: path.join(dir, 'round')})})
    const body = (text: string) => text.split('\n').slice(1).join('\n')
    assert.equal(body(second.stdout), body(first.stdout))
    assert.doesNotMatch(second.stderr, /Warning/)
  })
})
