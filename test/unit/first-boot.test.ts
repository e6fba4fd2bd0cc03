import assert from 'node:assert/strict'
import {firstBootMethod, virtCustomizeArgs} from '@lago/core'

describe('first-boot configuration method', () => {
  it('NoCloud unless the VM or template says otherwise, or the template is an original Lago repository image', () => {
    assert.equal(firstBootMethod({}, {}), 'nocloud')
    assert.equal(firstBootMethod({}, {distro: 'fedora', bootstrap: 'cloud-init-nocloud'}), 'nocloud')
    assert.equal(firstBootMethod({}, {distro: 'el7.6', 'root-password': '123456', 'root-partition': '/dev/sda1'}), 'libguestfs')
    assert.equal(firstBootMethod({}, {bootstrap: 'virt-sysprep'}), 'libguestfs')
    assert.equal(firstBootMethod({bootstrap: 'cloud-init'}, {'root-password': 'x'}), 'nocloud')
  })

  it('virt-customize sets hostname, key and password; EL guests get ifcfg files per NIC, the iSCSI name and a relabel', () => {
    const base = {disk: '/p/.lago/images/vm0-root.qcow2', format: 'qcow2', hostname: 'vm0', authorizedKey: 'ssh-ed25519 AAAA lago', nics: [{mac: '54:52:c0:a8:c8:02'}]}
    assert.deepEqual(virtCustomizeArgs(base), ['--format', 'qcow2', '-a', base.disk, '--no-network', '--hostname', 'vm0', '--ssh-inject', 'root:string:ssh-ed25519 AAAA lago'])
    const el = virtCustomizeArgs({...base, distro: 'el7.6', rootPassword: '123456'})
    assert.deepEqual(el.slice(9, 11), ['--root-password', 'password:123456'])
    assert.ok(el.includes('/etc/sysconfig/network-scripts/ifcfg-eth0:DEVICE=eth0\nNAME=eth0\nTYPE=Ethernet\nBOOTPROTO=dhcp\nONBOOT=yes\nHWADDR=54:52:c0:a8:c8:02\n'))
    assert.ok(el.includes('/etc/iscsi/initiatorname.iscsi:InitiatorName=iqn.2014-07.org.lago:vm0\n'))
    assert.equal(el.at(-1), '--selinux-relabel')
  })
})
