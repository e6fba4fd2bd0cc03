import {randomBytes} from 'node:crypto'
import {chmod, mkdtemp, open, rm, writeFile} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import {LagoError} from '../../errors.js'
import {log} from '../../log.js'
import {sleep} from '../../util/abort.js'
import {readTextIfExists, sizeIfExists} from '../../util/fs.js'
import {kvmFailureIn} from './kvm-failure.js'
import {KVM_PROBE_IMAGE_BASE64} from './kvm-probe-image.js'
import {qemuLogFile, readFrom} from './qemu-log.js'
import {cleanVirshError, Virsh} from './virsh.js'
import {domainXml} from './xml.js'

/** The guest configuration a probe must share with Lago's domains. */
export interface ProbeTarget {
  uri: string
  /** `<emulator>` of the domains; empty for libvirt's default. */
  emulator: string
  /** A VM's `cpu_model`; undefined for host-passthrough, what KVM domains get by default. */
  cpuModel?: string
}

export interface ProbeResult {
  works: boolean
  /** Why not, in one line (qemu's or the probe guest's own words). */
  detail?: string
  seconds: number
}

const OK_MARKER = 'LAGO-PROBE-OK'
const FAULT_MARKER = /LAGO-PROBE-FAULT (\S+)/
const PROBE_TIMEOUT_MS = 20_000
const STATE_EVERY_MS = 400

/**
 * Boots the probe guest (probe/kvm-probe.asm) under KVM through libvirt, as a domain made by
 * the same XML generator as Lago's VMs: same machine type, CPU mode or model, firmware and
 * emulator. It runs protected mode with interrupts and iret, long mode through EFER, the MSRs
 * a kernel writes early, SSE, and interrupts in long mode, then prints a marker on its serial
 * console and resets (on_reboot=destroy ends the domain). Anything short of the marker is
 * "KVM does not work here", with qemu's own message as the reason.
 */
export async function runKvmProbe(target: ProbeTarget, signal?: AbortSignal): Promise<ProbeResult> {
  const started = Date.now()
  const virsh = new Virsh(target.uri)
  // qemu (another account on system libvirt) must read the image: a world-readable directory.
  const dir = await mkdtemp(path.join(os.tmpdir(), 'lago-kvm-probe-'))
  // Named and tagged like a prefix's domain whose prefix is gone, so gc removes one a killed probe left.
  const id = randomBytes(4).toString('hex')
  const name = `lago-${id}-kvm-probe`
  const qemuLog = qemuLogFile(target.uri, name)
  const result = (works: boolean, detail?: string): ProbeResult => ({works, detail, seconds: (Date.now() - started) / 1000})
  try {
    await chmod(dir, 0o755)
    const image = path.join(dir, 'probe.img')
    await writeProbeImage(image)
    const consoleLog = path.join(dir, 'console.log')
    const xml = await domainXml({
      libvirtName: name,
      type: 'kvm',
      memoryMiB: 32,
      vcpu: 1,
      cpuModel: target.cpuModel,
      disks: [{path: image, format: 'raw', dev: 'vda', readonly: true}],
      nics: [],
      consoleLog,
      owner: {prefixId: id, prefixPath: dir, name: 'kvm-probe'},
      emulator: target.emulator || undefined,
      onReboot: 'destroy',
    })
    const xmlFile = path.join(dir, 'probe.xml')
    await writeFile(xmlFile, xml)
    const logStart = qemuLog ? await sizeIfExists(qemuLog) : 0
    const created = await virsh.run(['create', xmlFile], {reject: false, signal})
    if (created.exitCode !== 0) {
      const failure = kvmFailureIn(created.stderr)
      if (failure) return result(false, failure)
      throw new LagoError('LIBVIRT', `The KVM probe could not create its guest: ${cleanVirshError(created.stderr)}`, {userError: false})
    }
    let lastStateCheck = 0
    while (Date.now() - started < PROBE_TIMEOUT_MS) {
      const console = (await readTextIfExists(consoleLog)) ?? ''
      if (console.includes(OK_MARKER)) return result(true)
      const fault = FAULT_MARKER.exec(console)
      if (fault) return result(false, `the probe guest took CPU exception ${fault[1]} under KVM`)
      if (Date.now() - lastStateCheck >= STATE_EVERY_MS) {
        lastStateCheck = Date.now()
        const state = await domainState(virsh, name)
        if (!state.startsWith('running')) {
          // The guest may have printed its marker just before it reset.
          await sleep(200, signal)
          if (((await readTextIfExists(consoleLog)) ?? '').includes(OK_MARKER)) return result(true)
          const qemuText = qemuLog ? await readFrom(qemuLog, logStart) : ''
          return result(false, kvmFailureIn(qemuText) ?? `the probe guest stopped under KVM (${state}) before it finished`)
        }
      }
      await sleep(50, signal)
    }
    return result(false, `the probe guest did not finish within ${PROBE_TIMEOUT_MS / 1000} s under KVM`)
  } finally {
    await virsh.run(['destroy', name], {reject: false}).catch((error: unknown) => log.debug(`kvm probe: destroy ${name}: ${String(error)}`))
    await rm(dir, {recursive: true, force: true})
    if (qemuLog) await rm(qemuLog, {force: true}).catch((error: unknown) => log.debug(`kvm probe: could not remove ${qemuLog}: ${String(error)}`))
  }
}

/** The probe image padded to 1 MiB (sparse): SeaBIOS does not boot smaller virtio disks. */
async function writeProbeImage(file: string): Promise<void> {
  const handle = await open(file, 'w', 0o644)
  try {
    await handle.write(Buffer.from(KVM_PROBE_IMAGE_BASE64, 'base64'))
    await handle.truncate(1024 * 1024)
  } finally {
    await handle.close()
  }
}

async function domainState(virsh: Virsh, name: string): Promise<string> {
  const result = await virsh.run(['domstate', '--reason', name], {reject: false})
  return result.exitCode === 0 ? result.stdout.trim() : 'gone'
}
