import assert from 'node:assert/strict'
import {DEFAULT_CONFIG, type LagoConfig, type PrefixState} from '@lago/core'
import {networkConfigV2} from '../../packages/core/src/bootstrap/nocloud.js'
import {sessionOutcome} from '../../packages/core/src/host/checks/session.js'
import {segmentOf, sessionNicArgs, userNicMac} from '../../packages/core/src/providers/libvirt/session-net.js'
import {domainXml} from '../../packages/core/src/providers/libvirt/xml.js'
import {applyLibvirtMode, modeOf, userPlaces} from '../../packages/core/src/session/mode.js'
import {sessionSeed} from '../../packages/core/src/session/seed.js'

const STATE = {
  version: 1,
  mode: 'session',
  uuid: 'a'.repeat(32),
  id: 'aaaaaaaa',
  createdAt: '',
  initFile: '',
  nets: [
    {
      name: 'mgmt',
      type: 'nat',
      management: true,
      dnsDomainName: 'lago.local',
      libvirtName: 'lago-a-mgmt',
      bridge: 'b0',
      subnet: '192.168.110.0',
      gateway: '192.168.110.1',
      netmask: '255.255.255.0',
      leased: true,
    },
    {name: 'data', type: 'nat', management: false, libvirtName: 'lago-a-data', bridge: 'b1', subnet: '192.168.111.0', gateway: '192.168.111.1', netmask: '255.255.255.0', leased: true},
  ],
  vms: [
    {
      name: 'vm0',
      libvirtName: 'lago-a-vm0',
      nics: [
        {net: 'mgmt', ip: '192.168.110.2', mac: '54:52:c0:a8:6e:02'},
        {net: 'data', ip: '192.168.111.2', mac: '54:52:c0:a8:6f:02'},
      ],
      disks: [],
    },
  ],
} as unknown as PrefixState

describe('rootless (session) mode', () => {
  it('tells the modes apart by URI', () => {
    assert.equal(modeOf('qemu:///session'), 'session')
    assert.equal(modeOf('qemu+unix:///session?socket=/x'), 'session')
    assert.equal(modeOf('qemu:///system'), 'system')
    assert.equal(modeOf('qemu+ssh://host/session'), 'system')
  })

  it('an explicit session URI moves the defaults (not the user settings) to XDG places', async () => {
    const config: LagoConfig = structuredClone(DEFAULT_CONFIG)
    config.libvirt.uri = 'qemu:///session'
    config.lago.lease_dir = '/mine/leases'
    const env = {HOME: '/home/u', XDG_DATA_HOME: '/home/u/data'}
    await applyLibvirtMode(config, env)
    assert.equal(config.lago.template_store, '/home/u/data/lago/store')
    assert.equal(config.lago.template_repos, '/home/u/data/lago/repos')
    assert.equal(config.lago.lease_dir, '/mine/leases')
    assert.equal(userPlaces(env).leases, '/home/u/.local/state/lago/subnets')
  })

  it('segments are fixed per prefix and network, and differ between them', () => {
    const a = segmentOf('a'.repeat(32), 'mgmt')
    assert.deepEqual(segmentOf('a'.repeat(32), 'mgmt'), a)
    assert.notDeepEqual(segmentOf('a'.repeat(32), 'data'), a)
    assert.notDeepEqual(segmentOf('b'.repeat(32), 'mgmt'), a)
    assert.match(a.group, /^239\.19[2-5]\.\d+\.\d+$/)
    assert.ok(a.port >= 10_000 && a.port < 30_000)
  })

  it('qemu gets the user-mode NIC first (SSH forwarded from 127.0.0.1), then one loopback segment per network', async () => {
    const args = sessionNicArgs({uuid: STATE.uuid, state: STATE}, STATE.vms[0], STATE.vms[0].nics[0].mac, 40022)
    assert.deepEqual(args.slice(0, 4), ['-netdev', 'user,id=lago-user,hostfwd=tcp:127.0.0.1:40022-:22', '-device', 'virtio-net-pci,netdev=lago-user,bus=pci.0,addr=0x10,mac=54:53:c0:a8:6e:02'])
    const {group, port} = segmentOf(STATE.uuid, 'data')
    assert.ok(args.includes(`socket,id=lago-net1,mcast=${group}:${port},localaddr=127.0.0.1`))
    assert.ok(args.includes('virtio-net-pci,netdev=lago-net1,bus=pci.0,addr=0x12,mac=54:52:c0:a8:6f:02'))
    const xml = await domainXml({
      libvirtName: 'd',
      type: 'qemu',
      memoryMiB: 256,
      vcpu: 1,
      disks: [],
      nics: [],
      consoleLog: '/l',
      owner: {prefixId: 'a', prefixPath: '/p', name: 'vm0'},
      qemuArgs: args,
    })
    assert.match(xml, /<qemu:commandline xmlns:qemu="http:\/\/libvirt.org\/schemas\/domain\/qemu\/1.0">/)
    assert.match(xml, /<qemu:arg value="user,id=lago-user,hostfwd=tcp:127.0.0.1:40022-:22"\/>/)
    assert.doesNotMatch(xml, /<interface/)
  })

  it('the seed carries static addresses (no DHCP on them), DHCP on the user-mode NIC, and every name for /etc/hosts', () => {
    const seed = sessionSeed(STATE, STATE.vms[0])
    assert.deepEqual(seed.network, {
      static: [
        {mac: '54:52:c0:a8:6e:02', address: '192.168.110.2/24'},
        {mac: '54:52:c0:a8:6f:02', address: '192.168.111.2/24'},
      ],
      dhcp: [userNicMac('54:52:c0:a8:6e:02')],
    })
    assert.deepEqual(seed.hosts?.[0], {ip: '192.168.110.2', names: ['vm0', 'vm0.lago.local', 'vm0-mgmt', 'vm0-eth0', 'vm0-mgmt.lago.local']})
    assert.deepEqual(networkConfigV2(seed.network).ethernets.static1, {match: {macaddress: '54:52:c0:a8:6f:02'}, dhcp4: false, addresses: ['192.168.111.2/24']})
    assert.deepEqual(networkConfigV2(seed.network).ethernets.dhcp0, {match: {macaddress: '54:53:c0:a8:6e:02'}, dhcp4: true})
  })

  it('the doctor line names each gap of session mode with its fix', () => {
    assert.equal(sessionOutcome('qemu:///session', []).status, 'ok')
    const gap = sessionOutcome('qemu:///session', [{what: 'no libvirtd', fix: 'apt-get install -y libvirt-daemon'}])
    assert.equal(gap.status, 'fail')
    assert.match(gap.message, /no libvirtd/)
    assert.equal(gap.fix, 'apt-get install -y libvirt-daemon')
  })
})
