import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {mkdtemp, rm} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import {writeNoCloudSeed} from '@lago/core'

describe('the cloud-init NoCloud seed', () => {
  let dir: string
  before(async () => (dir = await mkdtemp(path.join(os.tmpdir(), 'lago-seed-'))))
  after(() => rm(dir, {recursive: true, force: true}))

  it('is an ISO 9660 volume "cidata" whose Joliet names and contents isoinfo and blkid read back', async () => {
    const iso = path.join(dir, 'seed.iso')
    await writeNoCloudSeed(iso, {instanceId: 'id-1', hostname: 'vm0', fqdn: 'vm0.lago.local', authorizedKeys: ['ssh-ed25519 AAAA test']})
    const info = execFileSync('isoinfo', ['-d', '-i', iso], {encoding: 'utf8'})
    assert.match(info, /^Volume id: cidata$/m)
    assert.match(info, /Joliet with UCS level 3 found/)
    assert.equal(execFileSync('blkid', ['-o', 'value', '-s', 'LABEL', iso], {encoding: 'utf8'}).trim(), 'cidata')
    const listing = execFileSync('isoinfo', ['-J', '-f', '-i', iso], {encoding: 'utf8'}).trim().split('\n')
    assert.deepEqual(listing, ['/meta-data', '/user-data'])
    const read = (name: string) => execFileSync('isoinfo', ['-J', '-i', iso, '-x', `/${name}`], {encoding: 'utf8'})
    assert.equal(read('meta-data'), 'instance-id: id-1\nlocal-hostname: vm0\n')
    const userData = read('user-data')
    assert.match(userData, /^#cloud-config\n/)
    assert.match(userData, /ssh_authorized_keys:\n {2}- ssh-ed25519 AAAA test\n/)
    assert.match(userData, /^fqdn: vm0.lago.local$/m)
    const plain = execFileSync('isoinfo', ['-f', '-i', iso], {encoding: 'utf8'}).trim().split('\n')
    assert.deepEqual(plain, ['/META_DAT.;1', '/USER_DAT.;1'], 'readers without Joliet see 8.3 names')
  })
})
