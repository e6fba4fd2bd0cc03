import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {mkdtemp, rm, stat} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import ssh2 from 'ssh2'
import {generateKeyPair, writeKeyPair} from '@lago/core'

describe('prefix SSH keys', () => {
  let dir: string
  before(async () => (dir = await mkdtemp(path.join(os.tmpdir(), 'lago-keys-'))))
  after(() => rm(dir, {recursive: true, force: true}))

  it('are ed25519 in OpenSSH format that ssh-keygen and ssh2 both read, private key 0600', async () => {
    const pair = await generateKeyPair('lago-abc')
    const file = path.join(dir, 'id_ed25519')
    await writeKeyPair(file, pair)
    assert.equal((await stat(file)).mode & 0o777, 0o600)
    assert.equal(execFileSync('ssh-keygen', ['-y', '-f', file], {encoding: 'utf8'}).trim(), pair.publicKey)
    const parsed = ssh2.utils.parseKey(pair.privateKey)
    assert.ok(!(parsed instanceof Error), String(parsed))
    const key = Array.isArray(parsed) ? parsed[0] : parsed
    assert.equal(key.type, 'ssh-ed25519')
    assert.equal(key.comment, 'lago-abc')
    assert.equal(`ssh-ed25519 ${key.getPublicSSH().toString('base64')} lago-abc`, pair.publicKey)
    assert.notEqual((await generateKeyPair('x')).publicKey.split(' ')[1], pair.publicKey.split(' ')[1], 'every call makes a new key')
  })
})
