import assert from 'node:assert/strict'
import {readdir, writeFile} from 'node:fs/promises'
import path from 'node:path'
import {ONE_VM_INIT_FILE, Sandbox} from '../lib/harness.js'

// An image of an original Lago template repository: its metadata has distro, root-password and
// root-partition, and no "bootstrap" (those images had no cloud-init; virt-sysprep configured them).
const ORIGINAL_METADATA = {distro: 'tiny-debian12', 'root-password': '123456', 'root-partition': '/dev/vda2'}

describe('first boot of a template without cloud-init (libguestfs, as the original bootstrap)', function () {
  let sandbox: Sandbox
  let prefix: string
  // domain_type auto: where KVM lies (as here) the probe picks TCG, and libguestfs's appliance follows it.
  const env = {}
  const lago = (args: string[]) => sandbox.lago(args, {cwd: prefix, env})

  before(async () => {
    sandbox = await Sandbox.create('first-boot')
    const repo = await sandbox.templateRepo()
    await writeFile(path.join(sandbox.dir, 'repo/tiny-v1.qcow2.metadata'), JSON.stringify(ORIGINAL_METADATA))
    prefix = path.join(sandbox.dir, 'env')
    const initFile = await sandbox.writeInitFile('LagoInitFile', ONE_VM_INIT_FILE.replace('vm0:', 'guestfs-vm:'))
    const init = await sandbox.lago(['init', prefix, initFile, '--template-repo-path', repo], {env})
    assert.equal(init.exitCode, 0, String(init.all))
  })

  after(async () => {
    await sandbox.lago(['destroy', '--yes', '--prefix-path', prefix])
    await sandbox.remove()
  })

  it('gets no seed, boots, and answers SSH with the prefix key under its own hostname, with the root password set', async () => {
    const start = await lago(['start'])
    assert.equal(start.exitCode, 0, String(start.all))
    const status = JSON.parse(String((await lago(['status', '--json'])).stdout))
    assert.equal(status.vms[0].state, 'running')
    const hostname = await lago(['shell', 'guestfs-vm', 'hostname'])
    assert.equal(String(hostname.stdout).trim(), 'guestfs-vm', String(hostname.all))
    const shadow = await lago(['shell', 'guestfs-vm', 'grep', '^root:', '/etc/shadow'])
    assert.match(String(shadow.stdout), /^root:\$[0-9a-z]+\$/, `root has a password hash (it was "*"): ${String(shadow.all)}`)
    assert.deepEqual(await readdir(path.join(prefix, '.lago/seeds')), [], 'configured in its disk, not by a NoCloud seed')
  })
})
