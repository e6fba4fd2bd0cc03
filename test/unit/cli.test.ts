import assert from 'node:assert/strict'
import path from 'node:path'
import {stripVTControlCharacters} from 'node:util'
import {execa} from 'execa'
import {LAGO_BIN, REPO_ROOT} from '../lib/harness.js'

describe('the CLI and its plugin', () => {
  it('lago --help lists the core verbs and the ovirt plugin', async () => {
    const {stdout} = await execa(LAGO_BIN, ['--help'])
    for (const verb of ['init', 'start', 'stop', 'status', 'shell', 'cleanup', 'plugins', 'ovirt']) {
      assert.match(stdout, new RegExp(`^  ${verb}\\s`, 'm'), `${verb} missing from:\n${stdout}`)
    }
  })

  it('the ovirt plugin is a separately packaged, linked oclif plugin', async () => {
    const {stdout} = await execa(LAGO_BIN, ['plugins'])
    assert.match(stripVTControlCharacters(stdout), /@lago\/plugin-ovirt 0\.1\.0 \(link\)/)
    const ovirt = await execa(LAGO_BIN, ['ovirt', '--json'])
    assert.ok(JSON.parse(ovirt.stdout).verbs.some((v: {name: string}) => v.name === 'reposetup'))
  })

  it('lagocli is the same program', async () => {
    const lagocli = path.join(REPO_ROOT, 'node_modules/.bin/lagocli')
    const {stdout} = await execa(lagocli, ['--help'], {env: {LAGO_DATA_DIR: path.join(REPO_ROOT, '.data')}})
    assert.match(stdout, /^  init\s/m)
  })

  it('a usage error exits 2', async () => {
    const result = await execa(LAGO_BIN, ['copy-to-vm', 'vm0'], {reject: false})
    assert.equal(result.exitCode, 2)
    assert.match(result.stderr, /Missing 2 required args/)
    const flag = await execa(LAGO_BIN, ['status', '--out-format', 'xml'], {reject: false})
    assert.equal(flag.exitCode, 2)
    assert.match(flag.stderr, /Expected --out-format=xml to be one of: table, default, json, yaml,\s+(› )?\s*flat/)
  })
})
