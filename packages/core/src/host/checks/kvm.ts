import {readFile} from 'node:fs/promises'
import os from 'node:os'
import {kvmStatus, type KvmStatus} from '../../providers/libvirt/domain-type.js'
import type {CheckOutcome, HostCheck} from '../check.js'
import {distroFamily, installCommand} from '../facts.js'

/**
 * How much slower a guest runs under TCG (software emulation) than under KVM, for CPU-bound
 * work. Measured, not quoted: bench/tcg-slowdown.ts times a busybox shell loop in the test
 * guest under TCG and the same static busybox natively on the host (KVM runs such code at
 * close to native speed); on the development host the median of 5 interleaved rounds was
 * 15.1× (range 9.8–18.1×). Device-bound work (disk, network) loses less.
 */
export const TCG_SLOWDOWN = 15

const SET_AUTO = 'LAGO__LIBVIRT__DOMAIN_TYPE=auto (or domain_type = auto under [libvirt] in /etc/lago.d/lago.conf)'

/** /dev/kvm present and a KVM guest actually able to run; otherwise the TCG fallback. */
export const kvmCheck: HostCheck = {
  id: 'kvm',
  title: 'KVM',
  preflight: ['start'],
  async run(ctx) {
    const setting = ctx.config.libvirt.domain_type
    if (setting === 'qemu') {
      return {status: 'ok', message: `domain_type is qemu: guests run under TCG by choice (about ${TCG_SLOWDOWN}× slower than KVM)`}
    }
    return kvmOutcome(await kvmStatus(ctx.config.libvirt, {signal: ctx.signal}), setting, await readFile('/proc/cpuinfo', 'utf8').catch(() => ''))
  },
}

export async function kvmOutcome(status: KvmStatus, setting: 'auto' | 'kvm', cpuinfo: string): Promise<CheckOutcome> {
  const detail = {reason: status.reason, why: status.detail, decidedBy: status.source, at: status.at, cpu: status.cpu, probeSeconds: status.probeSeconds}
  if (status.works) {
    const how = status.probeSeconds === undefined ? '' : ` (probe ${status.probeSeconds.toFixed(1)} s)`
    return {status: 'ok', message: `a guest configured like Lago's (${status.cpu}) runs under KVM${how}`, detail}
  }
  const why = {
    'no-qemu': 'no qemu-system-x86_64 on PATH to try it with',
    'no-dev-kvm': '/dev/kvm is missing',
    'no-kvm-access': 'qemu runs as you (session libvirt) and you may not open /dev/kvm',
    'probe-failed': `/dev/kvm is present but the probe guest (${status.cpu}) died under KVM: ${status.detail ?? 'no reason given'}`,
    'start-failed': `/dev/kvm is present but a VM died under KVM at start (${status.at ?? 'earlier'}): ${status.detail ?? 'no reason given'}`,
    unknown: 'not probed yet',
    ok: '',
  }[status.reason]
  const fix = await kvmFix(status, cpuinfo)
  if (setting === 'kvm') {
    return {
      status: 'fail',
      code: 'HOST',
      message: `domain_type is kvm but this host cannot run KVM guests: ${why}`,
      fix: `${SET_AUTO} to fall back to TCG${fix ? `; or ${fix}` : ''}`,
      detail,
    }
  }
  return {
    status: 'warn',
    message: `not usable (${why}): TCG will be used, about ${TCG_SLOWDOWN}× slower`,
    fix,
    detail: {...detail, slowdown: TCG_SLOWDOWN},
  }
}

async function kvmFix(status: KvmStatus, cpuinfo: string): Promise<string> {
  if (status.reason === 'no-qemu') {
    return installCommand({debian: ['qemu-system-x86'], fedora: ['qemu-kvm']}, await distroFamily())
  }
  if (status.reason === 'no-kvm-access') return `sudo usermod -aG kvm ${os.userInfo().username}, then log in again (rootless mode works without it, under TCG)`
  if (status.reason === 'no-dev-kvm') {
    if (/\bvmx\b/.test(cpuinfo)) return 'modprobe kvm_intel'
    if (/\bsvm\b/.test(cpuinfo)) return 'modprobe kvm_amd'
    return 'enable CPU virtualization first (see the CPU virtualization line)'
  }
  return 'enable nested virtualization on the machine hosting this one, or set domain_type = qemu to skip KVM'
}
