import assert from 'node:assert/strict'
import {mkdtemp, writeFile} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import {loadInitFile, parseInitFile, isLagoError} from '@lago/core'
import {ONE_VM_INIT_FILE} from '../lib/harness.js'

const GOOD_YAML = ONE_VM_INIT_FILE

async function problemsOf(text: string): Promise<string> {
  try {
    await parseInitFile(text, '/x/LagoInitFile', {})
  } catch (error) {
    assert.ok(isLagoError(error), `expected a LagoError, got ${String(error)}`)
    assert.equal(error.code, 'INIT_FILE')
    assert.equal(error.exitCode, 2)
    return error.message
  }
  assert.fail('the init file was accepted')
}

describe('init file parsing', () => {
  it('reads YAML and fills defaults', async () => {
    const spec = await parseInitFile(GOOD_YAML, '/x/LagoInitFile', {})
    assert.equal(spec.domains.length, 1)
    const vm = spec.domains[0]
    assert.deepEqual([vm.name, vm.memory, vm.vcpu, vm.sshUser, vm.bootstrap], ['vm0', 256, 1, 'root', true])
    assert.deepEqual(vm.disks[0], {type: 'template', name: 'root', dev: 'vda', format: 'qcow2', size: undefined, templateName: 'tiny', templateVersion: undefined, path: undefined})
    assert.equal(spec.nets[0].management, true, 'a single net is the management net')
  })

  it('reads the same environment from JSON', async () => {
    const json = JSON.stringify({domains: {vm0: {memory: '512M', nics: [{net: 'lago'}], disks: [{type: 'template', template_name: 'tiny'}]}}, nets: {lago: {}}})
    const spec = await parseInitFile(json, '/x/env.json', {})
    assert.equal(spec.domains[0].memory, 512)
    assert.equal(spec.domains[0].disks[0].dev, 'vda')
    assert.equal(spec.nets[0].type, 'nat')
  })

  it('expands $VARS, including LAGO_INITFILE_PATH', async () => {
    const text = GOOD_YAML.replace('      - template_name: tiny', '      - path: $LAGO_INITFILE_PATH/${DISK}\n        template_name: tiny')
    const spec = await parseInitFile(text.replace('type: template', 'type: file'), '/x/dir/LagoInitFile', {DISK: 'a.qcow2'})
    assert.equal(spec.domains[0].disks[0].path, '/x/dir/a.qcow2')
  })

  it('names the file and line of a YAML syntax error', async () => {
    const message = await problemsOf('domains:\n  vm0: [unclosed\nnets: {}\n')
    assert.match(message, /^\/x\/LagoInitFile: not valid YAML or JSON at line \d+, column \d+/)
  })

  it('rejects a document that is not a mapping', async () => {
    assert.match(await problemsOf('- a\n- b\n'), /must be a mapping with "domains" and "nets"/)
  })

  it('points at a NIC naming a missing net', async () => {
    const message = await problemsOf(GOOD_YAML.replace('- net: lago', '- net: lago\n      - net: storage'))
    assert.match(message, /domains\.vm0\.nics\[1\]\.net: "storage" is not a net of this file \(nets: lago\)/)
  })

  it('points at unknown fields, bad enums and missing required fields', async () => {
    const text = GOOD_YAML.replace('vcpu: 1', 'vcpu: 1\n    colour: red').replace('type: nat', 'type: wifi').replace('        type: template\n', '')
    const message = await problemsOf(text)
    assert.match(message, /domains\.vm0\.colour: is not a known field/)
    assert.match(message, /nets\.lago\.type: must be one of "nat", "bridge"/)
    assert.match(message, /domains\.vm0\.disks\[0\]\.type: is required/)
  })

  it('rejects invalid VM names for libvirt and DNS', async () => {
    assert.match(await problemsOf(GOOD_YAML.replace('vm0:', 'vm_0:')), /domains\.vm_0: is not a valid name/)
  })

  it('rejects wrong types with the field path', async () => {
    const message = await problemsOf(GOOD_YAML.replace('vcpu: 1', 'vcpu: two').replace('memory: 256', 'memory: lots'))
    assert.match(message, /domains\.vm0\.vcpu: must be integer/)
    assert.match(message, /domains\.vm0\.memory: /)
  })

  it('requires exactly one management net when there are several', async () => {
    const message = await problemsOf(GOOD_YAML.replace('    type: nat', '    type: nat\n  other:\n    type: bridge'))
    assert.match(message, /exactly one net must have "management: true" \(found none\)/)
  })

  it('requires a NIC on the management net', async () => {
    const text = GOOD_YAML.replace('    type: nat', '    type: nat\n    management: true\n  other:\n    type: bridge').replace('- net: lago', '- net: other')
    assert.match(await problemsOf(text), /domains\.vm0\.nics: needs a NIC on the management net "lago"/)
  })

  it('rejects a bad static IP', async () => {
    const text = GOOD_YAML.replace('- net: lago', '- net: lago\n        ip: 300.1.1.1')
    assert.match(await problemsOf(text), /domains\.vm0\.nics\[0\]\.ip: "300\.1\.1\.1" is not a valid ipv4 address/)
  })

  it('rejects an empty boot disk', async () => {
    const text = GOOD_YAML.replace('type: template', 'type: empty\n        size: 1G')
    assert.match(await problemsOf(text), /domains\.vm0\.disks\[0\]: the first disk is the boot disk and cannot be "empty"/)
  })

  it('reports an unset environment variable by field', async () => {
    const text = GOOD_YAML.replace('type: template', 'type: file\n        path: $NOPE/disk.qcow2')
    assert.match(await problemsOf(text), /domains\.vm0\.disks\[0\]\.path: "\$NOPE" names an environment variable that is not set/)
  })

  it('says clearly when the file is missing', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'lago-unit-'))
    await assert.rejects(loadInitFile(path.join(dir, 'LagoInitFile')), (error: unknown) => {
      assert.ok(isLagoError(error))
      assert.match(error.message, /Init file .*LagoInitFile does not exist\./)
      return true
    })
    await writeFile(path.join(dir, 'ok.yaml'), GOOD_YAML)
    assert.equal((await loadInitFile(path.join(dir, 'ok.yaml'))).domains[0].name, 'vm0')
  })
})
