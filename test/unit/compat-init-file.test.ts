import assert from 'node:assert/strict'
import {parseInitFile} from '@lago/core'
import {ONE_VM_INIT_FILE} from '../lib/harness.js'

describe("the original's init files", () => {
  it('a VM without ssh-user gets [ssh] user (the original --ssh-user); one with it keeps its own', async () => {
    const spec = await parseInitFile(ONE_VM_INIT_FILE, '/x/LagoInitFile', {}, {sshUser: 'admin'})
    assert.equal(spec.domains[0].sshUser, 'admin')
    const own = await parseInitFile(ONE_VM_INIT_FILE.replace('    vcpu: 1', '    vcpu: 1\n    ssh-user: cloud'), '/x/LagoInitFile', {}, {sshUser: 'admin'})
    assert.equal(own.domains[0].sshUser, 'cloud')
    assert.equal((await parseInitFile(ONE_VM_INIT_FILE, '/x/LagoInitFile', {})).domains[0].sshUser, 'root')
  })

  it('the 2015 metadata ovirt-role names the VM type; vm-type wins', async () => {
    const withRole = ONE_VM_INIT_FILE.replace('    vcpu: 1', '    vcpu: 1\n    metadata:\n      ovirt-role: host')
    assert.equal((await parseInitFile(withRole, '/x/LagoInitFile', {})).domains[0].vmType, 'ovirt-host')
    assert.equal((await parseInitFile(withRole.replace('    vcpu: 1', '    vcpu: 1\n    vm-type: ovirt-node'), '/x/LagoInitFile', {})).domains[0].vmType, 'ovirt-node')
  })
})
