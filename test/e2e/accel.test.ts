import assert from 'node:assert/strict'
import {chmod, mkdir, writeFile} from 'node:fs/promises'
import path from 'node:path'
import {ONE_VM_INIT_FILE, REPO_ROOT, Sandbox, virsh} from '../lib/harness.js'

const FAKE_HOST = path.join(REPO_ROOT, 'test/harness/fake-kvm-host.sh')

interface DoctorCheck {
  id: string
  status: string
  message: string
  fix?: string
  detail?: {reason?: string; why?: string; decidedBy?: string}
}

/**
 * Hosts whose KVM lies, stood in for by an emulator wrapper (test/harness/fake-kvm-host.sh)
 * that libvirt runs as the domains' <emulator>: the decision is proven by the probe guest,
 * and a start survives a KVM guest that dies mid-boot.
 */
describe('KVM decision on hosts whose KVM lies (stand-in emulators)', function () {
  let sandbox: Sandbox
  let prefix: string
  const emulators: Record<string, string> = {}

  before(async () => {
    sandbox = await Sandbox.create('accel')
    const bin = path.join(sandbox.dir, 'emulators')
    await mkdir(bin)
    for (const mode of ['msr-abort', 'die-after:3', 'works']) {
      const file = path.join(bin, `qemu-${mode.replace(/:.*/, '')}`)
      await writeFile(file, `#!/bin/sh\nexec ${FAKE_HOST} ${mode} "$@"\n`)
      await chmod(file, 0o755)
      emulators[mode.replace(/:.*/, '')] = file
    }
    prefix = path.join(sandbox.dir, 'env')
    const initFile = await sandbox.writeInitFile('init.yaml', ONE_VM_INIT_FILE)
    const init = await sandbox.lago(['init', prefix, initFile, '--template-repo-path', await sandbox.templateRepo()])
    assert.equal(init.exitCode, 0, String(init.all))
  })

  after(async () => {
    await sandbox.lago(['cleanup'], {cwd: prefix})
    await sandbox.remove()
  })

  /** Each case gets its own decision cache, so one stand-in host's answer never leaks into another. */
  function host(emulator: string, cache: string, extra: Record<string, string> = {}): Record<string, string> {
    return {LAGO__LIBVIRT__EMULATOR: emulators[emulator], XDG_CACHE_HOME: path.join(sandbox.dir, `cache-${cache}`), ...extra}
  }

  async function kvmCheck(env: Record<string, string>): Promise<DoctorCheck> {
    const result = await sandbox.lago(['doctor', '--json'], {env})
    const report = JSON.parse(String(result.stdout)) as {checks: DoctorCheck[]}
    return report.checks.find((c) => c.id === 'kvm')!
  }

  async function domainType(): Promise<string> {
    const xml = await virsh(['dumpxml', await libvirtName()])
    return /<domain type='(\w+)'/.exec(xml)![1]
  }

  async function libvirtName(): Promise<string> {
    const status = JSON.parse(String((await sandbox.lago(['status', '--json'], {cwd: prefix})).stdout)) as {vms: {libvirtName: string}[]}
    return status.vms[0].libvirtName
  }

  async function vmState(): Promise<string> {
    const status = JSON.parse(String((await sandbox.lago(['status', '--json'], {cwd: prefix})).stdout)) as {vms: {state: string}[]}
    return status.vms[0].state
  }

  it("KVM that aborts on its MSRs: the probe says not usable with qemu's reason, domain_type=kvm fails with the fix, auto boots under TCG", async () => {
    const env = host('msr-abort', 'msr')
    const check = await kvmCheck(env)
    assert.equal(check.status, 'warn', JSON.stringify(check))
    assert.match(check.message, /^not usable \(\/dev\/kvm is present but the probe guest \(host-passthrough\) died under KVM: failed to set MSR 0x10a to 0x69/)
    assert.equal(check.detail?.decidedBy, 'probe')

    const forced = await sandbox.lago(['start'], {cwd: prefix, env: {...env, LAGO__LIBVIRT__DOMAIN_TYPE: 'kvm'}})
    assert.equal(forced.exitCode, 2, String(forced.all))
    assert.match(String(forced.stderr), /Error: KVM: domain_type is kvm but this host cannot run KVM guests: .*failed to set MSR 0x10a.*\nFix: LAGO__LIBVIRT__DOMAIN_TYPE=auto .* to fall back to TCG/)
    assert.equal(await vmState(), 'down', 'nothing was started')

    const started = await sandbox.lago(['start'], {cwd: prefix, env})
    assert.equal(started.exitCode, 0, String(started.all))
    assert.doesNotMatch(String(started.stderr), /warning: KVM failed/, 'the probe decided: no VM had to die first')
    assert.equal(await domainType(), 'qemu')
    assert.equal((await sandbox.lago(['stop'], {cwd: prefix, env})).exitCode, 0)
  })

  it('KVM that dies mid-boot: start carries on under TCG with one warning line, records why, and later starts go straight to TCG', async () => {
    const env = host('die-after', 'mid-boot')
    const started = await sandbox.lago(['start'], {cwd: prefix, env})
    assert.equal(started.exitCode, 0, String(started.all))
    const warnings = String(started.stderr)
      .split('\n')
      .filter((l) => l.startsWith('warning:'))
    assert.equal(warnings.length, 1, String(started.stderr))
    assert.match(
      warnings[0],
      /^warning: KVM failed on this host \(vm0: KVM internal error\. Suberror: 1; emulation failure\); vm0 was started again under TCG .* To skip KVM set domain_type = qemu, to fail instead set domain_type = kvm/,
    )
    assert.equal(await vmState(), 'running')
    assert.equal(await domainType(), 'qemu')
    const shell = await sandbox.lago(['shell', 'vm0', '-c', 'echo alive'], {cwd: prefix, env})
    assert.equal(String(shell.stdout).trim(), 'alive', String(shell.all))

    const check = await kvmCheck(env)
    assert.equal(check.detail?.reason, 'start-failed', JSON.stringify(check))
    assert.match(check.message, /a VM died under KVM at start .*vm0: KVM internal error/)
    assert.equal((await sandbox.lago(['stop'], {cwd: prefix, env})).exitCode, 0)

    const again = await sandbox.lago(['start'], {cwd: prefix, env})
    assert.equal(again.exitCode, 0, String(again.all))
    assert.doesNotMatch(String(again.stderr), /warning: KVM failed/, 'the recorded decision is used')
    assert.equal(await domainType(), 'qemu')
    assert.equal((await sandbox.lago(['stop'], {cwd: prefix, env})).exitCode, 0)
  })

  it('KVM that dies mid-boot with domain_type=kvm: the start fails naming the reason and the fix, nothing left running', async () => {
    const env = host('die-after', 'forced', {LAGO__LIBVIRT__DOMAIN_TYPE: 'kvm'})
    const result = await sandbox.lago(['start'], {cwd: prefix, env})
    assert.equal(result.exitCode, 2, String(result.all))
    assert.match(
      String(result.stderr),
      /VM vm0 died under KVM: KVM internal error\. Suberror: 1; emulation failure\.\ndomain_type is kvm, so Lago does not fall back to TCG\. Fix: set domain_type = auto/,
    )
    assert.equal(await vmState(), 'down')
  })

  it('where KVM works, guests get KVM', async () => {
    const env = host('works', 'good')
    const check = await kvmCheck(env)
    assert.equal(check.status, 'ok', JSON.stringify(check))
    assert.match(check.message, /a guest configured like Lago's \(host-passthrough\) runs under KVM \(probe \d+\.\d s\)/)
    const started = await sandbox.lago(['start'], {cwd: prefix, env})
    assert.equal(started.exitCode, 0, String(started.all))
    assert.equal(await domainType(), 'kvm')
    assert.equal((await sandbox.lago(['stop'], {cwd: prefix, env})).exitCode, 0)
  })
})
