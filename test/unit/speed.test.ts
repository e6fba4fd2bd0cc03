import assert from 'node:assert/strict'
import type {AddressInfo} from 'node:net'
import ssh2 from 'ssh2'
import {generateKeyPair, SshRefusedError, waitForSsh, withDiskSources} from '@lago/core'

/** A loopback SSH server that lets nobody in (as a guest without the prefix key in authorized_keys). */
async function refusingServer(): Promise<{port: number; close: () => void}> {
  const hostKey = (await generateKeyPair('host')).privateKey
  const server = new ssh2.Server({hostKeys: [hostKey]}, (client) => {
    client.on('authentication', (ctx) => ctx.reject(['publickey', 'password']))
    client.on('error', () => {})
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {port: (server.address() as AddressInfo).port, close: () => server.close()}
}

describe('readiness: "up but refusing us" is not "not up yet"', () => {
  it('gives up after the refusal window (long before the deadline), naming the user and what was refused', async () => {
    const server = await refusingServer()
    const started = Date.now()
    try {
      const target = {host: '127.0.0.1', port: server.port, user: 'root', privateKey: (await generateKeyPair('client')).privateKey, password: 'secret'}
      const error = await waitForSsh(target, {deadline: Date.now() + 60_000, refusalMs: 500}).then(
        () => assert.fail('the refusing server let us in'),
        (e: unknown) => e,
      )
      assert.ok(error instanceof SshRefusedError, String(error))
      assert.match(error.message, /answers but refuses user root: it rejected our public key and password/)
      assert.deepEqual(error.detail.refused, ['publickey', 'password'])
      assert.ok(Date.now() - started < 30_000)
    } finally {
      server.close()
    }
  })
})

describe('restoring a memory state onto moved disks', () => {
  const saved = `<domain type='qemu'>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='/p/.lago/images/vm0_root.qcow2' index='2'/>
      <backingStore type='file' index='3'>
        <format type='qcow2'/>
        <source file='/store/t:v1'/>
        <backingStore/>
      </backingStore>
      <target dev='vda' bus='virtio'/>
    </disk>
    <disk type='file' device='disk'>
      <source file='/p/.lago/seeds/vm0-cidata.iso'/>
      <target dev='vdb' bus='virtio'/>
      <readonly/>
    </disk>
  </devices>
</domain>`

  it('points each listed disk at its new file and drops the old backing chain; other disks stay as saved', () => {
    const xml = withDiskSources(saved, new Map([['vda', "/p/.lago/images/vm0_root.live-x&'y.qcow2"]]))
    assert.match(xml, /<source file='\/p\/\.lago\/images\/vm0_root\.live-x&amp;&apos;y\.qcow2'\/>/)
    assert.doesNotMatch(xml, /backingStore|t:v1|index=/)
    assert.match(xml, /<source file='\/p\/\.lago\/seeds\/vm0-cidata\.iso'\/>\s*<target dev='vdb'/)
  })
})
