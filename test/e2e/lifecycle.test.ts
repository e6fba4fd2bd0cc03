import assert from 'node:assert/strict'
import {readFile, stat} from 'node:fs/promises'
import path from 'node:path'
import {execa} from 'execa'
import {kvmWorks} from '@lago/core'
import {libvirtObjectsOf, ONE_VM_INIT_FILE, Sandbox, virsh} from '../lib/harness.js'

describe('one guest from init to cleanup (real libvirt)', function () {
  let sandbox: Sandbox
  let prefix: string
  let id: string

  before(async () => {
    sandbox = await Sandbox.create('lifecycle')
    prefix = path.join(sandbox.dir, 'env')
  })

  after(async () => {
    if (prefix) await sandbox.lago(['cleanup', '--prefix-path', prefix])
    await sandbox.remove()
  })

  it('init makes the prefix: overlay on the stored template, key 0600, seed, a leased subnet', async () => {
    const repo = await sandbox.templateRepo()
    const initFile = await sandbox.writeInitFile('LagoInitFile', ONE_VM_INIT_FILE)
    const result = await sandbox.lago(['init', prefix, initFile, '--template-repo-path', repo, '--template-store', sandbox.store])
    assert.equal(result.exitCode, 0, String(result.all))
    const state = JSON.parse(await readFile(path.join(prefix, '.lago/state.json'), 'utf8'))
    id = state.id
    assert.match(id, /^[0-9a-f]{8}$/)
    const overlay = path.join(prefix, '.lago/images/vm0_root.qcow2')
    const info = JSON.parse(String((await execa('qemu-img', ['info', '--output=json', overlay])).stdout))
    assert.equal(info.format, 'qcow2')
    assert.equal(info['backing-filename'], path.join(sandbox.store, 'lago-test:tiny:v1'))
    assert.equal(info['backing-filename-format'], 'qcow2')
    assert.equal((await stat(path.join(prefix, '.lago/id_ed25519'))).mode & 0o777, 0o600)
    assert.ok((await stat(path.join(prefix, '.lago/seeds/vm0-cidata.iso'))).size > 0)
    assert.deepEqual(await sandbox.leaseFiles(), [`${state.nets[0].subnet}.lease`])
    assert.deepEqual(await libvirtObjectsOf(id), [], 'init starts nothing')
  })

  it('start boots the guest and waits until SSH answers', async () => {
    const result = await sandbox.lago(['start'], {cwd: prefix})
    assert.equal(result.exitCode, 0, String(result.all))
    assert.match(String(result.all), /vm0/)
    assert.match(String(result.stdout), /vm0: running at 192\.168\.\d+\.\d+/)
    // domain_type auto: KVM only where a KVM guest really runs, else TCG
    const expected = (await kvmWorks()) ? 'kvm' : 'qemu'
    assert.match(await readFile(path.join(prefix, '.lago/libvirt/vm-vm0.xml'), 'utf8'), new RegExp(`<domain type="${expected}">`))
  })

  it('shell -c runs a command on the guest and passes its exit code through', async () => {
    const hostname = await sandbox.lago(['shell', 'vm0', '-c', 'hostname'], {cwd: prefix})
    assert.equal(hostname.exitCode, 0, String(hostname.all))
    assert.equal(String(hostname.stdout).trim(), 'vm0')
    const failing = await sandbox.lago(['shell', 'vm0', '-c', 'echo to-stderr >&2; exit 7'], {cwd: prefix})
    assert.equal(failing.exitCode, 7)
    assert.match(String(failing.stderr), /to-stderr/)
    const write = await sandbox.lago(['shell', 'vm0', '-c', 'echo kept > /root/marker && sync'], {cwd: prefix})
    assert.equal(write.exitCode, 0, String(write.all))
  })

  it('status --json shows the VM running with its address, and the table shows the same', async () => {
    const result = await sandbox.lago(['status', '--json'], {cwd: prefix})
    assert.equal(result.exitCode, 0, String(result.all))
    const status = JSON.parse(String(result.stdout))
    assert.equal(status.prefix, prefix)
    assert.equal(status.initialized, true)
    assert.equal(status.vms.length, 1)
    const [vm] = status.vms
    assert.equal(vm.name, 'vm0')
    assert.equal(vm.state, 'running')
    assert.match(vm.ip, /^192\.168\.\d+\.\d+$/)
    assert.equal(vm.memory, 256)
    assert.equal(vm.disks[0].template, 'lago-test:tiny')
    assert.equal(vm.disks[0].templateVersion, 'v1')
    assert.equal(status.nets[0].active, true)
    assert.equal(status.nets[0].gateway.replace(/\d+$/, ''), vm.ip.replace(/\d+$/, ''))
    const table = await sandbox.lago(['status'], {cwd: prefix})
    assert.match(String(table.stdout), new RegExp(`vm0\\s+running\\s+${vm.ip.replace(/\./g, '\\.')}`))
  })

  it('stop removes the domain and network; start again boots the same disk', async () => {
    const stop = await sandbox.lago(['stop'], {cwd: prefix})
    assert.equal(stop.exitCode, 0, String(stop.all))
    assert.deepEqual(await libvirtObjectsOf(id), [])
    const status = JSON.parse(String((await sandbox.lago(['status', '--json'], {cwd: prefix})).stdout))
    assert.equal(status.vms[0].state, 'down')
    const start = await sandbox.lago(['start'], {cwd: prefix})
    assert.equal(start.exitCode, 0, String(start.all))
    const marker = await sandbox.lago(['shell', 'vm0', '-c', 'cat /root/marker'], {cwd: prefix})
    assert.equal(String(marker.stdout).trim(), 'kept', 'the guest disk persists across stop/start')
  })

  it('cleanup leaves no domain or network of the prefix and releases the subnet; repeating it is fine', async () => {
    const result = await sandbox.lago(['cleanup', '--json'], {cwd: prefix})
    assert.equal(result.exitCode, 0, String(result.all))
    assert.equal(JSON.parse(String(result.stdout)).releasedSubnets.length, 1)
    const domains = await virsh(['list', '--all', '--name'])
    const nets = await virsh(['net-list', '--all', '--name'])
    assert.ok(!domains.includes(id), domains)
    assert.ok(!nets.includes(id), nets)
    assert.deepEqual(await sandbox.leaseFiles(), [])
    const again = await sandbox.lago(['cleanup'], {cwd: prefix})
    assert.equal(again.exitCode, 0, String(again.all))
    const start = await sandbox.lago(['start'], {cwd: prefix})
    assert.equal(start.exitCode, 2)
    assert.match(String(start.stderr), /was cleaned up/)
  })
})
