import type {LagoConfig} from '../../config/config.js'
import {LagoError} from '../../errors.js'
import path from 'node:path'
import {log} from '../../log.js'
import {sleep} from '../../util/abort.js'
import {readTextIfExists, sizeIfExists, writeFileAtomic} from '../../util/fs.js'
import {mkdir, rename, rm, writeFile} from 'node:fs/promises'
import {writeNoCloudSeed} from '../../bootstrap/nocloud.js'
import type {OwnedObject, Provider, ProviderEnvironment, ProviderFactory, ProviderNet, ProviderVm, Runtime, SeedContent, SshEndpoint, VmRuntimeState} from '../provider.js'
import {localImages} from '../local-images.js'
import {modeOf, type LibvirtMode} from '../../session/mode.js'
import {freeLoopbackPort, isPortClash, sessionNicArgs, withForwardedPort} from './session-net.js'
import {cpuKey, recordKvmFailure, resolveDomainType, type DomainType} from './domain-type.js'
import {kvmFailureIn} from './kvm-failure.js'
import {restoreDomain, saveDomain, savedDomainXml, snapshotWithMemory, withDiskSources} from './memory-state.js'
import {lagoObjects, removeObject} from './owned.js'
import {qemuLogFile, readFrom} from './qemu-log.js'
import {ensureResumeFifos, hasResumePort, setClockThroughFifos, withResumePortPath} from './resume-port.js'
import {cleanVirshError, Virsh} from './virsh.js'
import {domainXml, networkXml} from './xml.js'

export type {Runtime, VmRuntimeState} from '../provider.js'

/**
 * The libvirt side of a prefix: transient networks and domains (as the original Lago
 * made them), created from the prefix state each time it starts; disks and seeds are
 * files on this host, guests are reached by routing to their subnet.
 */
export class LibvirtProvider implements Provider {
  readonly name: string = 'libvirt'
  readonly virsh: Virsh
  readonly images = localImages
  /** Domain type per CPU configuration (host-passthrough, custom:MODEL), decided once. */
  private readonly domainTypes = new Map<string, Promise<DomainType>>()
  /** What each VM was started as, and where its qemu log stood then. */
  private readonly started = new Map<string, {type: DomainType; logOffset: number}>()
  private fallbackWarned = false
  private readonly portAttempts = new Map<string, number>()
  /** The domain XML of memory state files being restored, read ahead (prepareRestore). */
  private readonly savedXml = new Map<string, Promise<string>>()

  constructor(
    readonly config: LagoConfig['libvirt'],
    private readonly environment?: ProviderEnvironment,
  ) {
    this.virsh = new Virsh(config.uri)
    this.mode = modeOf(config.uri)
  }

  /** system: libvirt networks (bridges, dnsmasq); session: rootless, segments and forwarded ports (session-net.ts). */
  readonly mode: LibvirtMode

  get location(): string {
    return this.config.uri
  }

  /** The environment this provider was made for; environment verbs need one. */
  private get env(): ProviderEnvironment {
    if (!this.environment) throw new LagoError('INTERNAL', 'This libvirt provider was created without an environment.', {userError: false})
    return this.environment
  }

  async ping(): Promise<void> {
    await this.virsh.ping()
  }

  ownedObjects(): Promise<OwnedObject[]> {
    return lagoObjects(this.virsh)
  }

  removeObject(object: Pick<OwnedObject, 'kind' | 'name'>): Promise<void> {
    return removeObject(this.virsh, object)
  }

  async domainDisks(domain: string): Promise<string[]> {
    const result = await this.virsh.run(['domblklist', domain], {reject: false})
    if (result.exitCode !== 0) return []
    return result.stdout
      .split('\n')
      .map((line) => /^\s*\S+\s+(.*\S)\s*$/.exec(line)?.[1] ?? '')
      .filter((file) => file !== '' && file !== '-')
  }

  writeSeed(file: string, content: SeedContent): Promise<void> {
    return writeNoCloudSeed(file, content)
  }

  /** Guests are on subnets routed to this host: their SSH port answers at their address; in session mode, at the port forwarded on 127.0.0.1. */
  async sshEndpoint(vm: ProviderVm, ip: string): Promise<SshEndpoint> {
    if (this.mode === 'system') return {host: ip, port: 22}
    const text = await readTextIfExists(this.forwardFile(vm))
    return {host: '127.0.0.1', port: Number(text?.trim() ?? 0)}
  }

  async runtime(): Promise<Runtime> {
    // Both lists asked together: one virsh (one connection: over qemu+ssh, one handshake).
    const [{stdout: domains}, {stdout: nets}] = await Promise.all([this.virsh.query(['list', '--all']), this.virsh.query(['net-list', '--name'])])
    const vms = new Map<string, VmRuntimeState>()
    for (const line of domains.split('\n')) {
      const columns = line.trim().split(/\s{2,}/)
      if (columns.length >= 3) vms.set(columns[1], columns.slice(2).join(' '))
    }
    const activeNets = new Set(
      nets
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean),
    )
    // A session segment exists while a VM is on it.
    const state = this.environment?.state
    if (this.mode === 'session' && state) {
      for (const vm of state.vms.filter((v) => vms.get(v.libvirtName) === 'running')) for (const nic of vm.nics) activeNets.add(state.nets.find((n) => n.name === nic.net)?.libvirtName ?? '')
    }
    return {vms, activeNets}
  }

  /** Session mode: the file holding the 127.0.0.1 port forwarded to the VM's SSH port. */
  private forwardFile(vm: ProviderVm): string {
    return path.join(path.dirname(this.env.definitionsDir), 'forwards', `${vm.name}.ssh-port`)
  }

  async startNet(net: ProviderNet, signal?: AbortSignal): Promise<void> {
    if (this.mode === 'session') return
    const env = this.env
    const vmsOnNet = env.state.vms.flatMap((vm) => vm.nics.filter((n) => n.net === net.name).map((n) => ({vm, nic: n})))
    const xml = await networkXml({
      libvirtName: net.libvirtName,
      bridge: net.bridge,
      mode: net.type === 'nat' ? 'nat' : 'isolated',
      gateway: net.gateway,
      netmask: net.netmask,
      dhcp: {
        start: replaceLastOctet(net.gateway, net.dhcp?.start ?? 100),
        end: replaceLastOctet(net.gateway, net.dhcp?.end ?? 254),
      },
      hosts: vmsOnNet.map(({vm, nic}) => ({mac: nic.mac, ip: nic.ip, name: vm.name})),
      dns: net.management ? {domain: net.dnsDomainName, records: dnsRecords(env.state)} : undefined,
      owner: {prefixId: env.id, prefixPath: env.root, name: net.name},
    })
    const file = await this.writeXml(`net-${net.name}.xml`, xml)
    try {
      await this.virsh.createFromXml('net-create', file, {signal})
    } catch (error) {
      throw translateStartError(error, `network ${net.name}`)
    }
  }

  async stopNet(net: ProviderNet): Promise<void> {
    if (this.mode === 'session') return
    await this.destroyIgnoringAbsent(['net-destroy', net.libvirtName])
  }

  /** The domain type a VM gets: the setting, or for auto the proven KVM decision for its CPU mode. */
  domainTypeFor(vm: ProviderVm): Promise<DomainType> {
    const key = cpuKey(vm.cpuModel)
    let decision = this.domainTypes.get(key)
    if (!decision) {
      decision = resolveDomainType(this.config, {cpuModel: vm.cpuModel})
      this.domainTypes.set(key, decision)
    }
    return decision
  }

  /**
   * Create the VM's domain. A KVM domain that qemu cannot start for a KVM reason is recorded,
   * and (domain_type auto) created again under TCG.
   */
  async startVm(vm: ProviderVm, signal?: AbortSignal, forceType?: DomainType): Promise<void> {
    const type = forceType ?? (await this.domainTypeFor(vm))
    const env = this.env
    const netByName = new Map(env.state.nets.map((n) => [n.name, n]))
    const disks = this.diskDevices(vm)
    const session = this.mode === 'session' ? await this.forwardPort(vm) : undefined
    const resumePort = this.resumePort && !this.resumePortRefused ? this.resumePortBase(vm) : undefined
    if (resumePort) await ensureResumeFifos(resumePort)
    const xml = await domainXml({
      libvirtName: vm.libvirtName,
      type,
      memoryMiB: vm.memory,
      vcpu: vm.vcpu,
      cpuModel: vm.cpuModel,
      disks,
      nics: session ? [] : vm.nics.map((n) => ({network: netByName.get(n.net)!.libvirtName, mac: n.mac})),
      qemuArgs: session ? sessionNicArgs(env, vm, this.managementNic(vm).mac, session.port) : undefined,
      consoleLog: env.consoleLog(vm.name),
      owner: {prefixId: env.id, prefixPath: env.root, name: vm.name},
      emulator: this.config.emulator || undefined,
      resumePort,
    })
    const file = await this.writeXml(`vm-${vm.name}.xml`, xml)
    const qemuLog = qemuLogFile(this.config.uri, vm.libvirtName)
    this.started.set(vm.name, {type, logOffset: qemuLog ? await sizeIfExists(qemuLog) : 0})
    try {
      await this.virsh.createFromXml('create', file, {signal})
      log.debug(`${vm.name}: domain created`)
    } catch (error) {
      if (session && error instanceof LagoError && isPortClash(error.message) && session.attempt < 3) {
        log.info(`${vm.name}: port ${session.port} was taken before qemu could listen on it; trying another`)
        return this.startVm(vm, signal, forceType)
      }
      if (resumePort && error instanceof LagoError && error.message.includes(resumePort)) {
        // A host where qemu may not open files Lago made (another user, a confining profile): the VM matters more than a fast resume.
        log.warn(`${vm.name}: qemu could not open its resume port (${resumePort}.in, .out): ${cleanVirshError(error.message)}; starting VMs without one (a resume then sets their clock over SSH)`)
        this.resumePortRefused = true
        return this.startVm(vm, signal, forceType)
      }
      const failure = type === 'kvm' && error instanceof LagoError ? kvmFailureIn(error.message) : undefined
      if (!failure) throw translateStartError(error, `VM ${vm.name}`)
      await this.kvmFailed(vm, failure, signal)
    }
  }

  /**
   * Start a VM and wait until `ready` resolves. While a KVM guest boots, its domain is
   * watched: when it dies of a KVM failure (qemu abort, "KVM internal error") before it is
   * ready, that is recorded and the VM boots again under TCG (domain_type auto), or the
   * start fails naming the reason (domain_type kvm).
   */
  async bootVm(vm: ProviderVm, ready: (signal: AbortSignal) => Promise<void>, signal?: AbortSignal): Promise<void> {
    await this.startVm(vm, signal)
    if (this.started.get(vm.name)?.type !== 'kvm') return ready(signal ?? new AbortController().signal)
    const stopWaiting = new AbortController()
    const stopWatching = new AbortController()
    const onAbort = () => stopWaiting.abort(signal?.reason)
    signal?.addEventListener('abort', onAbort, {once: true})
    try {
      const waiting = ready(stopWaiting.signal).then(() => undefined)
      const outcome = await Promise.race([waiting, this.watchForKvmDeath(vm, stopWatching.signal)])
      if (outcome === undefined) return
      stopWaiting.abort(new LagoError('ABORTED', `${vm.name} died under KVM`))
      await waiting.catch(() => undefined)
      await this.kvmFailed(vm, outcome, signal)
    } finally {
      stopWatching.abort()
      signal?.removeEventListener('abort', onAbort)
    }
    await ready(signal ?? new AbortController().signal)
  }

  /** Resolves with the KVM failure when the VM's domain dies of one; otherwise stays pending until aborted. */
  private async watchForKvmDeath(vm: ProviderVm, signal: AbortSignal): Promise<string> {
    const qemuLog = qemuLogFile(this.config.uri, vm.libvirtName)
    const offset = this.started.get(vm.name)?.logOffset ?? 0
    while (!signal.aborted) {
      await sleep(1000, signal).catch(() => undefined)
      if (signal.aborted) break
      const state = await this.virsh.run(['domstate', '--reason', vm.libvirtName], {reject: false})
      if (state.exitCode === 0 && state.stdout.trim().startsWith('running')) continue
      const failure = kvmFailureIn(qemuLog ? await readFrom(qemuLog, offset) : '')
      if (failure) return failure
      break // stopped for another reason: the readiness wait reports it
    }
    return new Promise<string>(() => {})
  }

  /** A VM died under KVM: record it; fail (domain_type kvm) or boot it again under TCG. */
  private async kvmFailed(vm: ProviderVm, failure: string, signal?: AbortSignal): Promise<void> {
    await recordKvmFailure(this.config, vm.cpuModel, `${vm.name}: ${failure}`)
    if (this.config.domain_type === 'kvm') {
      await this.stopVm(vm)
      throw new LagoError('HOST', `VM ${vm.name} died under KVM: ${failure}.`, {
        hint: `domain_type is kvm, so Lago does not fall back to TCG. Fix: ${KVM_CHOICE_AUTO}, or make KVM work on this host (on a nested host, enable nested virtualization on the machine hosting this one).`,
        detail: {vm: vm.name, failure},
      })
    }
    this.domainTypes.set(cpuKey(vm.cpuModel), Promise.resolve('qemu'))
    if (!this.fallbackWarned) {
      this.fallbackWarned = true
      log.warn(
        `KVM failed on this host (${vm.name}: ${failure}); ${vm.name} was started again under TCG (software emulation, slower) and Lago will use TCG here from now on. ` +
          `To skip KVM set domain_type = qemu, to fail instead set domain_type = kvm ([libvirt] in lago.conf, or LAGO__LIBVIRT__DOMAIN_TYPE).`,
      )
    } else {
      log.info(`${vm.name} died under KVM (${failure}); starting it again under TCG`)
    }
    await this.stopVm(vm)
    await this.startVm(vm, signal, 'qemu')
  }

  async stopVm(vm: ProviderVm): Promise<void> {
    await this.destroyIgnoringAbsent(['destroy', vm.libvirtName])
    if (this.mode === 'session') await rm(this.forwardFile(vm), {force: true})
  }

  /** Session mode: a free 127.0.0.1 port for the VM's SSH, recorded before qemu listens on it. */
  private async forwardPort(vm: ProviderVm): Promise<{port: number; attempt: number}> {
    const attempt = (this.portAttempts.get(vm.name) ?? 0) + 1
    this.portAttempts.set(vm.name, attempt)
    const port = await freeLoopbackPort()
    await writeFileAtomic(this.forwardFile(vm), `${port}\n`)
    return {port, attempt}
  }

  private managementNic(vm: ProviderVm) {
    const mgmt = this.env.state.nets.find((n) => n.management)
    return vm.nics.find((n) => n.net === mgmt?.name) ?? vm.nics[0]
  }

  async shutdownVm(vm: ProviderVm): Promise<void> {
    await this.destroyIgnoringAbsent(['shutdown', vm.libvirtName])
  }

  async rebootVm(vm: ProviderVm): Promise<void> {
    await this.virsh.run(['reboot', vm.libvirtName])
  }

  /** Memory the hypervisor host can give new VMs (free + buffers + cache), in MiB. */
  async availableMemoryMiB(): Promise<number> {
    const {stdout} = await this.virsh.query(['nodememstats'])
    const stats = Object.fromEntries(
      stdout.split('\n').map((line) => {
        const match = /^\s*(\w+)\s*:\s*(\d+)/.exec(line)
        return match ? [match[1], Number(match[2])] : ['', 0]
      }),
    ) as Record<string, number>
    return Math.floor(((stats.free ?? 0) + (stats.buffers ?? 0) + (stats.cached ?? 0)) / 1024)
  }

  /**
   * Live external snapshot: the VM goes on writing to new overlays while the files it used
   * become read-only restore points. Disks not listed are left out. With `memoryFile`, the
   * memory state of the same instant is written there (a revert resumes instead of booting).
   */
  async snapshotRunningDisks(vm: ProviderVm, name: string, overlays: Map<string, string>, memoryFile?: string): Promise<void> {
    const specs = this.diskDevices(vm).flatMap(({dev}) => {
      const file = overlays.get(dev)
      // virsh splits --diskspec on commas; a literal one in the path is written twice.
      return ['--diskspec', file ? `${dev},snapshot=external,file=${file.replaceAll(',', ',,')}` : `${dev},snapshot=no`]
    })
    const snapshotName = `${name}-${Date.now()}`
    if (memoryFile) return snapshotWithMemory(this.virsh, vm.libvirtName, snapshotName, memoryFile, specs)
    await this.virsh.run(['snapshot-create-as', vm.libvirtName, '--name', snapshotName, '--no-metadata', '--disk-only', '--atomic', ...specs])
  }

  /** Write the running VM's memory state to `file`; its domain is gone afterwards. */
  async saveVm(vm: ProviderVm, file: string): Promise<void> {
    await saveDomain(this.virsh, vm.libvirtName, file)
  }

  /** Memory state files are on this host (libvirt writes them where virsh runs). */
  protected readonly saveFilesHere: boolean = true

  /** Read the domain XML a memory state file carries ahead of restoreVm (once: restoreVm takes it). */
  prepareRestore(file: string): void {
    if (this.savedXml.has(file)) return
    const reading = savedDomainXml(this.virsh, file, this.saveFilesHere)
    reading.catch(() => undefined) // restoreVm reports it
    this.savedXml.set(file, reading)
  }

  /** Resume the VM from a memory state file, on its disks as the prefix state has them now. */
  async restoreVm(vm: ProviderVm, file: string, signal?: AbortSignal): Promise<void> {
    const prepared = this.savedXml.get(file)
    this.savedXml.delete(file)
    const saved = await (prepared ?? savedDomainXml(this.virsh, file, this.saveFilesHere))
    // Restored under another name, the domain would run outside the prefix's records.
    const name = /<name>([^<]*)<\/name>/.exec(saved)?.[1]
    if (name !== vm.libvirtName)
      throw new LagoError('LIBVIRT', `${file} holds the memory state of ${name === undefined ? 'an unnamed domain' : `domain "${name}"`}, not of ${vm.libvirtName}.`, {userError: false})
    let xml = withDiskSources(saved, new Map(this.diskDevices(vm).map((d) => [d.dev, d.path])))
    if (this.mode === 'session') xml = withForwardedPort(xml, (await this.forwardPort(vm)).port)
    if (hasResumePort(xml)) {
      const base = this.resumePortBase(vm)
      await ensureResumeFifos(base)
      xml = withResumePortPath(xml, base)
    }
    const xmlFile = await this.writeXml(`restore-${vm.name}.xml`, xml)
    await restoreDomain(this.virsh, file, xmlFile, signal)
  }

  /** Domains get a resume port: its FIFOs are files on this host, where Lago runs. */
  readonly resumePort: boolean = true
  /** qemu could not open a resume port's FIFOs on this host: later domains get none. */
  private resumePortRefused = false

  /** The resume port's FIFOs, beside the domain definitions. */
  private resumePortBase(vm: ProviderVm): string {
    return path.join(path.dirname(this.env.definitionsDir), 'ports', `${vm.name}.resume`)
  }

  async setClockThroughPort(vm: ProviderVm, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    return this.resumePort && setClockThroughFifos(this.resumePortBase(vm), timeoutMs, signal)
  }

  /** Every disk device of the domain as libvirt sees it: the VM's disks plus its seed. */
  diskDevices(vm: ProviderVm): {dev: string; path: string; format: 'qcow2' | 'raw'; readonly: boolean; cdrom: boolean}[] {
    const env = this.env
    const disks = vm.disks.map((d) => ({
      dev: d.dev,
      path: env.resolve(d.path),
      format: d.format === 'iso' ? ('raw' as const) : d.format,
      readonly: d.format === 'iso',
      cdrom: d.format === 'iso',
    }))
    if (vm.seed) disks.push({dev: nextVirtioDev(vm.disks.map((d) => d.dev)), path: env.resolve(vm.seed), format: 'raw', readonly: true, cdrom: false})
    return disks
  }

  /** Interactive serial console on this terminal; resolves with virsh's exit code. */
  async attachConsole(domain: string): Promise<number> {
    const {execa} = await import('execa')
    const result = await execa('virsh', ['-c', this.config.uri, 'console', '--force', domain], {stdio: 'inherit', reject: false})
    return result.exitCode ?? 1
  }

  /** The XML virsh reads, kept for debugging: written anew at every start, so no fsync is waited for. */
  private async writeXml(name: string, xml: string): Promise<string> {
    const file = path.join(this.env.definitionsDir, name)
    await mkdir(path.dirname(file), {recursive: true})
    const tmp = `${file}.${process.pid}.tmp`
    await writeFile(tmp, xml)
    await rename(tmp, file)
    return file
  }

  private async destroyIgnoringAbsent(args: string[]): Promise<void> {
    const result = await this.virsh.run(args, {reject: false})
    if (result.exitCode !== 0 && !/not found|failed to get (domain|network)|no domain|no network|not running|is not active/i.test(result.stderr)) {
      throw new LagoError('LIBVIRT', `libvirt could not ${args[0]} ${args[1]}: ${cleanVirshError(result.stderr)}`, {userError: false})
    }
  }
}

/**
 * The management net's DNS knows every VM: `vm` and `vm.domain` at its management
 * address, `vm-NET` and `vm-ethN` at each NIC's address. Other nets serve no DNS, so a
 * guest's resolver always points at the management net.
 */
export function dnsRecords(state: ProviderEnvironment['state']): {ip: string; names: string[]}[] {
  const mgmt = state.nets.find((n) => n.management)
  const domain = mgmt?.dnsDomainName
  return state.vms.flatMap((vm) =>
    vm.nics.map((nic, index) => {
      const names = [`${vm.name}-${nic.net}`, `${vm.name}-eth${index}`]
      if (nic.net === mgmt?.name) names.unshift(vm.name, ...(domain ? [`${vm.name}.${domain}`] : []))
      if (domain) names.push(`${vm.name}-${nic.net}.${domain}`)
      return {ip: nic.ip, names: [...new Set(names)]}
    }),
  )
}

/** The local libvirt (any URI virsh reaches; disks and seeds are files on this host). */
export const libvirtProviderFactory: ProviderFactory = {
  name: 'libvirt',
  description: 'libvirt on this host (libvirt.uri), disks and seeds in the prefix directory',
  create: (config, environment) => new LibvirtProvider(config.libvirt, environment),
}

const KVM_CHOICE_AUTO = 'set domain_type = auto ([libvirt] in lago.conf, or LAGO__LIBVIRT__DOMAIN_TYPE=auto) to fall back to TCG'

function replaceLastOctet(ip: string, octet: number): string {
  return ip.split('.').slice(0, 3).concat(String(octet)).join('.')
}

function nextVirtioDev(used: string[]): string {
  for (let i = 0; i < 26; i++) {
    const dev = `vd${String.fromCharCode(97 + i)}`
    if (!used.includes(dev)) return dev
  }
  return 'vdzz'
}

function translateStartError(error: unknown, what: string): unknown {
  if (!(error instanceof LagoError) || error.code !== 'LIBVIRT') return error
  const text = error.message
  if (/Cannot access storage file|Permission denied/i.test(text)) {
    return new LagoError('PERMISSION', `${what} could not start: qemu cannot open its disk. ${text}`, {
      hint: 'Every directory above the prefix and the template store must be searchable by the qemu user: "chmod o+x DIR" for each (lago doctor names them).',
    })
  }
  if (/could not find capabilities for domaintype=kvm|does not support virt type 'kvm'|kvm.*not (supported|available)/i.test(text)) {
    return new LagoError('HOST', `${what} could not start: this host cannot run KVM guests (${text}).`, {
      hint: 'Set domain_type to auto or qemu (LAGO__LIBVIRT__DOMAIN_TYPE=qemu, or [libvirt] domain_type in lago.conf) to use software emulation.',
    })
  }
  if (/address already in use|already exists/i.test(text)) {
    return new LagoError('LIBVIRT', `${what} could not start: ${text}`, {
      hint: 'Another environment or a leftover object uses the same name or subnet; "lago cleanup" in the other prefix, or remove the object with virsh.',
    })
  }
  return error
}
