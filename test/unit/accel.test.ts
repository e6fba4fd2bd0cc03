import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {readFileSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {isLagoError, loadConfig} from '@lago/core'
import {kvmFailureIn} from '../../packages/core/src/providers/libvirt/kvm-failure.js'
import {KVM_PROBE_IMAGE_BASE64} from '../../packages/core/src/providers/libvirt/kvm-probe-image.js'
import {domainXml} from '../../packages/core/src/providers/libvirt/xml.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

function hasNasm(): boolean {
  try {
    execFileSync('nasm', ['-v'], {stdio: 'ignore'})
    return true
  } catch {
    return false
  }
}

describe('KVM decision', () => {
  describe('kvmFailureIn: only KVM failures make Lago fall back to TCG', () => {
    it('qemu aborting on an MSR, as libvirt reports it', () => {
      const stderr =
        "error: Failed to create domain from probe.xml\nerror: internal error: process exited while connecting to monitor: 2026-12-01T21:32:55.732997Z qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69\nqemu-system-x86_64: ../../target/i386/kvm/kvm.c:3183: kvm_buf_set_msrs: Assertion `ret == cpu->kvm_msr_buf->nmsrs' failed."
      assert.equal(kvmFailureIn(stderr), "failed to set MSR 0x10a to 0x69; kvm_buf_set_msrs: Assertion `ret == cpu->kvm_msr_buf->nmsrs' failed.")
    })

    it('a guest dying in its boot loader, from the qemu log', () => {
      const log = [
        '2026-12-01 21:33:05.322+0000: Domain id=3 is tainted: high-privileges',
        "2026-12-01T21:33:05.371214Z qemu-system-x86_64: warning: host doesn't support requested feature: CPUID.01H:ECX.pni [bit 0]",
        'KVM internal error. Suberror: 1',
        'extra data[0]: 0x0000000000000001',
        'emulation failure',
        'EAX=001000cc EBX=3e896766 ECX=00000000 EDX=00100037',
      ].join('\n')
      assert.equal(kvmFailureIn(log), 'KVM internal error. Suberror: 1; emulation failure')
    })

    it('a CPU model KVM cannot give, and libvirt without KVM', () => {
      assert.match(kvmFailureIn('error: the CPU is incompatible with host CPU: Host CPU does not provide required features: svm')!, /^the CPU is incompatible/)
      assert.ok(kvmFailureIn("error: unsupported configuration: Emulator '/usr/bin/qemu-system-x86_64' does not support virt type 'kvm'"))
    })

    it('other start failures are not KVM failures', () => {
      for (const text of [
        "error: Cannot access storage file '/x/root.qcow2': Permission denied",
        "error: internal error: Network 'lago-abc-lago' is not active",
        'error: operation failed: domain lago-abc-vm0 already exists with uuid 1234',
        'qemu-system-x86_64: -drive file=/x: Could not open /x: No such file or directory',
        '',
      ]) {
        assert.equal(kvmFailureIn(text), undefined, text)
      }
    })
  })

  describe('the probe guest', () => {
    it('is a boot sector with its second stage, the signature in place', () => {
      const image = Buffer.from(KVM_PROBE_IMAGE_BASE64, 'base64')
      assert.equal(image.length % 512, 0)
      assert.ok(image.length > 512 && image.length <= 64 * 1024)
      assert.equal(image.readUInt16LE(510), 0xaa55)
      assert.ok(image.includes(Buffer.from('LAGO-PROBE-OK')))
    })

    it('is what probe/kvm-probe.asm assembles to', function () {
      if (!hasNasm()) this.skip()
      const expected = readFileSync(path.join(root, 'packages/core/src/providers/libvirt/kvm-probe-image.ts'), 'utf8')
      execFileSync(process.execPath, [path.join(root, 'packages/core/scripts/probe-image.mjs'), '--check'])
      assert.ok(expected.includes('KVM_PROBE_IMAGE_BASE64'))
    })

    it('runs as a domain of the same XML as the VMs, with the emulator setting and a reset that ends it', async () => {
      const xml = await domainXml({
        libvirtName: 'lago-kvm-probe-1',
        type: 'kvm',
        memoryMiB: 32,
        vcpu: 1,
        disks: [{path: '/tmp/p/probe.img', format: 'raw', dev: 'vda', readonly: true}],
        nics: [],
        consoleLog: '/tmp/p/console.log',
        owner: {prefixId: 'kvm-probe', prefixPath: '/tmp/p', name: 'kvm-probe'},
        emulator: '/opt/qemu/bin/qemu-system-x86_64',
        onReboot: 'destroy',
      })
      assert.match(xml, /<domain type="kvm">/)
      assert.match(xml, /<cpu mode="host-passthrough"\/>/)
      assert.match(xml, /<on_reboot>destroy<\/on_reboot>/)
      assert.match(xml, /<devices>\s*<emulator>\/opt\/qemu\/bin\/qemu-system-x86_64<\/emulator>/)
      assert.match(xml, /<type arch="x86_64" machine="pc">hvm<\/type>/)
    })
  })

  it('the emulator setting must be an absolute path', async () => {
    const config = await loadConfig({env: {LAGO__LIBVIRT__EMULATOR: '/usr/local/bin/qemu-wrapper'}, systemDir: '/nonexistent', userFile: '/nonexistent'})
    assert.equal(config.libvirt.emulator, '/usr/local/bin/qemu-wrapper')
    await assert.rejects(
      loadConfig({env: {LAGO__LIBVIRT__EMULATOR: 'qemu-wrapper'}, systemDir: '/nonexistent', userFile: '/nonexistent'}),
      (error: unknown) =>
        isLagoError(error) && error.message === 'Invalid value "qemu-wrapper" for libvirt.emulator in the environment: expected an absolute path to a qemu binary, or nothing for libvirt\'s default.',
    )
  })
})
