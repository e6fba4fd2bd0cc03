import assert from 'node:assert/strict'
import {mkdir, mkdtemp, readdir, readFile, rm, writeFile} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import {artifactName, parseInitFile, shellCommand, shellQuote} from '@lago/core'

const WITH_SCRIPTS = `
domains:
  vm0:
    nics: [{net: lago}]
    disks: [{type: file, path: disks/root.qcow2, make_a_copy: true}]
    deploy-scripts: [scripts/a.sh, /abs/b.sh, $LAGO_INITFILE_PATH/c.sh]
  vm1:
    nics: [{net: lago}]
    disks: [{type: template, template_name: tiny}]
    metadata: {deploy-scripts: [old-style.sh]}
  vm2:
    nics: [{net: lago}]
    disks: [{type: template, template_name: tiny}]
    metadata: {ovirt-scripts: [older.sh]}
nets:
  lago: {}
`

describe('deploy scripts, artifacts and guest commands', () => {
  it('resolves deploy scripts against the init file, in both the new and the old (metadata) forms', async () => {
    const spec = await parseInitFile(WITH_SCRIPTS, '/suite/LagoInitFile', {})
    assert.deepEqual(spec.domains[0].deployScripts, ['/suite/scripts/a.sh', '/abs/b.sh', '/suite/c.sh'])
    assert.deepEqual(spec.domains[1].deployScripts, ['/suite/old-style.sh'])
    assert.deepEqual(spec.domains[2].deployScripts, ['/suite/older.sh'], 'the 2015 oVirt name still works (with a warning)')
    assert.equal(spec.domains[0].disks[0].makeACopy, true)
  })

  it('names artifacts like the original: every "/" becomes "_"', () => {
    assert.equal(artifactName('/var/log/ovirt-engine'), '_var_log_ovirt-engine')
    assert.equal(artifactName('/var/log/messages'), '_var_log_messages')
  })

  it('quotes guest command arguments for a POSIX shell', () => {
    assert.equal(shellQuote('/var/log'), '/var/log')
    assert.equal(shellQuote("it's $HOME; rm -rf /"), `'it'\\''s $HOME; rm -rf /'`)
    assert.equal(shellCommand(['tar', '-c', 'a b']), "tar -c 'a b'")
    assert.equal(shellQuote(''), "''")
  })
})

describe('placing collected artifacts', () => {
  let dir: string
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'lago-place-'))
  })
  afterEach(() => rm(dir, {recursive: true, force: true}))

  it('moves each path to its flat name; a path inside another one keeps its copy in both', async () => {
    const {placeArtifacts} = await import('../../packages/core/src/collect/layout.js')
    const staging = path.join(dir, 'vm0/.lago-staging')
    await mkdir(path.join(staging, 'var/log/app'), {recursive: true})
    await writeFile(path.join(staging, 'var/log/messages'), 'm\n')
    await writeFile(path.join(staging, 'var/log/app/x.log'), 'x\n')
    const placed = await placeArtifacts(staging, path.join(dir, 'vm0'), ['/var/log', '/var/log/app'])
    assert.deepEqual(
      placed.map((p) => path.relative(dir, p.target)),
      ['vm0/_var_log', 'vm0/_var_log_app'],
    )
    assert.deepEqual((await readdir(path.join(dir, 'vm0'))).sort(), ['_var_log', '_var_log_app'])
    assert.equal(await readFile(path.join(dir, 'vm0/_var_log/app/x.log'), 'utf8'), 'x\n')
    assert.equal(await readFile(path.join(dir, 'vm0/_var_log_app/x.log'), 'utf8'), 'x\n')
  })
})

describe('settleTogether', () => {
  it('lets every task finish, then fails exactly the unsuccessful ones with one shared error', async () => {
    const {settleTogether} = await import('../../packages/core/src/util/settle.js')
    const finished: string[] = []
    const shared = new Error('2 failed')
    const together = settleTogether(3, () => shared)
    const outcomes = await Promise.allSettled([
      together(0, async () => (finished.push('fast-fail'), false)),
      together(1, async () => {
        await new Promise((r) => setTimeout(r, 50))
        finished.push('slow-ok')
        return true
      }),
      together(2, async () => {
        throw new Error('own error')
      }),
    ])
    assert.deepEqual(finished, ['fast-fail', 'slow-ok'])
    assert.deepEqual(
      outcomes.map((o) => o.status),
      ['rejected', 'fulfilled', 'rejected'],
    )
    assert.equal((outcomes[0] as PromiseRejectedResult).reason, shared)
    assert.equal((outcomes[2] as PromiseRejectedResult).reason.message, 'own error')
  })
})
