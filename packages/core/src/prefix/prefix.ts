import {readFile, rm} from 'node:fs/promises'
import path from 'node:path'
import type {LagoConfig} from '../config/config.js'
import {errorMessage, LagoError} from '../errors.js'
import {events} from '../events/bus.js'
import {log} from '../log.js'
import type {Provider, Runtime, VmRuntimeState} from '../providers/provider.js'
import {modeOf, SESSION_URI, type LibvirtMode} from '../session/mode.js'
import type {SshTarget} from '../ssh/client.js'
import {sleep} from '../util/abort.js'
import type {Task} from '../tasks.js'
import {pathExists, readTextIfExists, writeJsonAtomic} from '../util/fs.js'
import {Rollback} from '../util/rollback.js'
import type {JournalRun, ObjectKind} from './journal.js'
import {PrefixPaths, SECRET_FILE_MODE} from './paths.js'
import {prefixProvider} from './provider-environment.js'
import {placedConfig, readPlacement} from './hypervisor.js'
import {localHypervisor} from '../providers/remote/hypervisors.js'
import type {PrefixState, VmState} from './state.js'

// Guest access and host checks load on first use, so `status` and friends start fast.
const ssh = () => import('../ssh/client.js')

export interface VmStatus {
  name: string
  state: VmRuntimeState
  libvirtName: string
  memory: number
  vcpu: number
  ip?: string
  /** Session mode, running VM: "127.0.0.1:PORT" forwarded to its SSH port. */
  ssh?: string
  nics: {net: string; ip: string; mac: string}[]
  /** `path` is where the disk is on `host` when it lives on a remote hypervisor, else here. */
  disks: {name: string; dev: string; format: string; path: string; host?: string; template?: string; templateVersion?: string}[]
  snapshots: string[]
}

export interface NetStatus {
  name: string
  libvirtName: string
  type: string
  management: boolean
  subnet: string
  gateway: string
  active: boolean
}

export interface PrefixStatus {
  prefix: string
  uuid: string
  /** system (libvirt networks) or session (rootless: user-mode networks, forwarded ports). */
  mode: LibvirtMode
  initialized: boolean
  /** The hypervisor the prefix runs on: its name (a configured one, the remote host, or "local") and libvirt URI. */
  host: {name: string; uri: string}
  nets: NetStatus[]
  vms: VmStatus[]
}

/** One environment on disk, and the verbs that act on it. */
export class Prefix {
  /** The journal run of the command changing this prefix (under its lock), if any. */
  journal?: JournalRun
  private stateWrites: Promise<void> = Promise.resolve()
  /** libvirt's view at the last startTasks, updated with every network and VM it started. */
  private knownRuntime?: Runtime

  private constructor(
    readonly paths: PrefixPaths,
    readonly state: PrefixState,
    readonly config: LagoConfig,
    readonly initialized: boolean,
  ) {}

  private providerInstance?: Provider

  /** The hypervisor this prefix runs on. */
  get provider(): Provider {
    // A prefix made for session mode has static addresses in its seeds: it runs there whatever the URI says.
    const config = this.state.mode === 'session' && modeOf(this.config.libvirt.uri) !== 'session' ? {...this.config, libvirt: {...this.config.libvirt, uri: SESSION_URI}} : this.config
    return (this.providerInstance ??= prefixProvider(config, this.paths, this.state))
  }

  static async open(paths: PrefixPaths, config: LagoConfig): Promise<Prefix> {
    const text = await readTextIfExists(paths.state)
    if (text === undefined) {
      throw new LagoError('PREFIX', `${paths.root} is a prefix whose initialization never finished (no ${paths.state}).`, {
        hint: `Remove it ("lago --prefix-path ${paths.root} destroy --yes", or rm -rf it) and run "lago init" again.`,
        detail: {reason: 'missing', file: paths.state},
      })
    }
    let state: PrefixState
    try {
      state = JSON.parse(text) as PrefixState
      if (!state || typeof state !== 'object' || !Array.isArray(state.vms) || !Array.isArray(state.nets)) throw new Error('not a prefix state')
    } catch (error) {
      throw new LagoError('PREFIX', `${paths.state} is ${text.trim() === '' ? 'empty' : `corrupt (${(error as Error).message})`}.`, {
        hint: `"lago cleanup" and "lago destroy" still work on this prefix (they find its VMs and networks through libvirt).`,
        detail: {reason: 'corrupt', file: paths.state},
      })
    }
    log.attachFile(paths.logFile)
    const placement = await readPlacement(paths)
    const prefix = new Prefix(paths, state, placedConfig(config, placement), await pathExists(paths.initialized))
    prefix.host = placement ? {name: placement.name, uri: placement.uri} : localHypervisor(config)
    return prefix
  }

  /** Where the prefix runs (PREFIX/.lago/hypervisor.json; older prefixes: libvirt.uri). */
  host: {name: string; uri: string} = {name: 'local', uri: ''}

  /** Refuse verbs that need a live environment on a prefix that was cleaned up. */
  requireInitialized(): void {
    if (!this.initialized) {
      throw new LagoError('PREFIX', `Prefix ${this.paths.root} was cleaned up: its subnets were released and it cannot start again.`, {
        hint: 'Create a new one with "lago init", or remove this one with rm -rf.',
      })
    }
  }

  vm(name: string): VmState {
    const vm = this.state.vms.find((v) => v.name === name) ?? this.state.vms.filter((v) => v.name.endsWith(name)).at(0)
    if (!vm) {
      throw new LagoError('VM', `No VM named "${name}" in prefix ${this.paths.root}.`, {
        hint: `VMs: ${this.state.vms.map((v) => v.name).join(', ')}.`,
      })
    }
    return vm
  }

  managementIp(vm: VmState): string {
    const mgmt = this.state.nets.find((n) => n.management)!
    return (vm.nics.find((n) => n.net === mgmt.name) ?? vm.nics[0]).ip
  }

  /** Where the host reaches the VM's SSH server (session mode: a port forwarded on 127.0.0.1). */
  async guestAddress(vm: VmState): Promise<{host: string; port: number; forwarded: boolean}> {
    const endpoint = await this.provider.sshEndpoint(vm, this.managementIp(vm))
    return {host: endpoint.host, port: endpoint.port, forwarded: this.provider.mode === 'session'}
  }

  async sshTarget(vm: VmState): Promise<SshTarget> {
    const endpoint = await this.provider.sshEndpoint(vm, this.managementIp(vm))
    return {
      host: endpoint.host,
      port: endpoint.port,
      user: vm.sshUser,
      privateKey: await readFile(this.paths.privateKey, 'utf8'),
      password: vm.sshPassword,
      ...(endpoint.connect ? {sock: endpoint.connect} : {}),
    }
  }

  /** With `known`, from what this process saw and did (after startTasks) instead of asking libvirt again. */
  async status(options: {known?: boolean} = {}): Promise<PrefixStatus> {
    const provider = this.provider
    const runtime = (options.known ? this.knownRuntime : undefined) ?? (await provider.runtime())
    const forwards = new Map<string, string>()
    if (provider.mode === 'session') {
      for (const vm of this.state.vms) {
        const address = await this.guestAddress(vm)
        if (runtime.vms.get(vm.libvirtName) === 'running' && address.port) forwards.set(vm.name, `${address.host}:${address.port}`)
      }
    }
    return {
      prefix: this.paths.root,
      uuid: this.state.uuid,
      mode: provider.mode ?? 'system',
      initialized: this.initialized,
      host: this.host,
      nets: this.state.nets.map((n) => ({
        name: n.name,
        libvirtName: n.libvirtName,
        type: n.type,
        management: n.management,
        subnet: `${n.subnet}/24`,
        gateway: n.gateway,
        active: runtime.activeNets.has(n.libvirtName),
      })),
      vms: this.state.vms.map((vm) => ({
        name: vm.name,
        state: this.vmState(runtime, vm),
        libvirtName: vm.libvirtName,
        memory: vm.memory,
        vcpu: vm.vcpu,
        ip: this.managementIp(vm),
        ssh: forwards.get(vm.name),
        nics: vm.nics,
        disks: vm.disks.map((d) => ({
          name: d.name,
          dev: d.dev,
          format: d.format,
          ...diskLocation(provider, this.paths.resolve(d.path)),
          template: d.template?.id.split(':').slice(0, 2).join(':'),
          templateVersion: d.template?.id.split(':')[2],
        })),
        snapshots: Object.keys(this.state.snapshots ?? {}),
      })),
    }
  }

  /** Start networks then VMs (only what is not running yet), and wait for each VM's SSH. */
  async startTasks(names: string[] = [], options: {force?: boolean; cold?: boolean} = {}): Promise<{tasks: Task[]; rollback: () => Promise<void>}> {
    this.requireInitialized()
    const vms = names.length > 0 ? names.map((n) => this.vm(n)) : this.state.vms
    const {resumeSaved, forgetSaved, savedStateOf} = await import('./saved.js')
    if (options.cold) await forgetSaved(this, vms)
    const netNames = new Set(vms.flatMap((vm) => vm.nics.map((n) => n.net)))
    const provider = this.provider
    const {preflight} = await import('../host/run.js')
    const [, runtime, availableMiB] = await Promise.all([
      provider.hostChecks === false
        ? undefined
        : preflight({
            config: this.config,
            purpose: 'start',
            prefixPath: this.paths.root,
            paths: [...new Set(vms.flatMap((vm) => vm.disks.flatMap((d) => (d.template ? [path.dirname(d.template.storePath)] : []))))].map((dir) => ({label: 'template store', path: dir})),
          }),
      provider.runtime().catch(() => undefined),
      options.force ? Promise.resolve(Infinity) : provider.availableMemoryMiB().catch(() => Infinity),
    ])
    if (!runtime) throw new LagoError('LIBVIRT', 'libvirt did not list its domains.', {userError: false})
    this.knownRuntime = runtime
    // What resuming saved VMs reads first is read while their networks come up.
    for (const vm of vms) {
      const saved = savedStateOf(this, vm)
      if (saved && runtime.vms.get(vm.libvirtName) !== 'running') provider.prepareRestore?.(this.paths.resolve(saved.file))
    }
    const rollback = new Rollback()
    const tasks: Task[] = []
    const nets = provider.mode !== 'session' ? this.state.nets.filter((n) => netNames.has(n.name) && !runtime.activeNets.has(n.libvirtName)) : []
    if (nets.length > 0) {
      tasks.push({
        title: 'Start networks',
        run: async (ctx) => {
          for (const net of nets) {
            ctx.report(net.name)
            // Registered first: an interrupted create may still have reached libvirtd.
            rollback.push(`stop network ${net.name}`, () => provider.stopNet(net))
            await this.recorded('network', net.libvirtName, () => provider.startNet(net, ctx.signal))
            runtime.activeNets.add(net.libvirtName)
          }
        },
      })
    }
    const toStart = vms.filter((vm) => runtime.vms.get(vm.libvirtName) !== 'running')
    checkMemory(toStart, availableMiB)
    tasks.push({
      title: toStart.length > 0 ? `Start ${toStart.length} VM${toStart.length === 1 ? '' : 's'}` : 'All VMs already running',
      concurrent: true,
      subtasks: toStart.map((vm) => ({
        title: vm.name,
        vm: vm.name,
        object: {kind: 'vm', name: vm.name},
        run: async (ctx) => {
          ctx.report('booting')
          rollback.push(`stop VM ${vm.name}`, () => provider.stopVm(vm))
          await this.journal?.intent('domain', vm.libvirtName)
          events.vmState(vm.name, 'starting')
          if (!(await resumeSaved(this, vm, ctx.report, ctx.signal))) {
            await provider.bootVm(
              vm,
              (signal) => {
                events.vmState(vm.name, 'booted')
                ctx.report(`waiting for SSH on ${provider.mode === 'session' ? `127.0.0.1 (forwarded to ${this.managementIp(vm)})` : this.managementIp(vm)}`)
                return this.waitForVm(vm, signal)
              },
              ctx.signal,
            )
            log.debug(`${vm.name}: SSH answers`)
          }
          events.vmState(vm.name, 'ssh-ready')
          runtime.vms.set(vm.libvirtName, 'running')
          // A session segment is up while a VM is on it.
          if (provider.mode === 'session') for (const nic of vm.nics) runtime.activeNets.add(this.state.nets.find((n) => n.name === nic.net)?.libvirtName ?? '')
          await this.journal?.done('domain', vm.libvirtName)
        },
      })),
    })
    return {tasks, rollback: () => rollback.unwind((what, error) => log.error(`rollback: could not ${what}: ${String(error)}`))}
  }

  /**
   * Graceful power-off (ACPI) of the named VMs or all, waiting up to `timeoutSeconds`
   * each before forcing it; with `reboot`, restart them and wait for SSH again.
   */
  async shutdown(names: string[], options: {reboot?: boolean; timeoutSeconds?: number; signal?: AbortSignal} = {}): Promise<{vm: string; forced: boolean; seconds: number}[]> {
    this.requireInitialized()
    const provider = this.provider
    const runtime = await provider.runtime()
    const vms = (names.length > 0 ? names.map((n) => this.vm(n)) : this.state.vms).filter((vm) => runtime.vms.get(vm.libvirtName) === 'running')
    const timeout = (options.timeoutSeconds ?? 120) * 1000
    const results = await Promise.all(
      vms.map(async (vm) => {
        const started = Date.now()
        if (options.reboot) {
          const bootId = await this.guestBootId(vm)
          await provider.rebootVm(vm)
          await this.waitForNewBoot(vm, bootId, started + timeout, options.signal)
          return {vm: vm.name, forced: false, seconds: (Date.now() - started) / 1000}
        }
        events.vmState(vm.name, 'stopping')
        await provider.shutdownVm(vm)
        let forced = false
        while ((await provider.runtime()).vms.get(vm.libvirtName) === 'running') {
          if (Date.now() - started > timeout) {
            log.warn(`${vm.name} did not power off within ${timeout / 1000} s; forcing it off`)
            await provider.stopVm(vm)
            forced = true
            break
          }
          await sleep(250, options.signal)
        }
        return {vm: vm.name, forced, seconds: (Date.now() - started) / 1000}
      }),
    )
    if (!options.reboot) await this.stop(vms.map((vm) => vm.name))
    return results
  }

  private async guestBootId(vm: VmState): Promise<string> {
    const client = await this.ssh(vm)
    try {
      return (await (await ssh()).execCapture(client, 'cat /proc/sys/kernel/random/boot_id')).stdout.trim()
    } finally {
      client.end()
    }
  }

  private async waitForNewBoot(vm: VmState, oldBootId: string, deadline: number, signal?: AbortSignal): Promise<void> {
    for (;;) {
      await (await ssh()).waitForSsh(await this.sshTarget(vm), {deadline, signal})
      const bootId = await this.guestBootId(vm).catch(() => oldBootId)
      if (bootId !== oldBootId) return
      if (Date.now() > deadline) throw new LagoError('VM', `VM ${vm.name} did not come back from its reboot in time.`)
      await sleep(500, signal)
    }
  }

  /** libvirt's word for the VM's domain; without one, "saved" (memory state on disk) or "down". */
  vmState(runtime: Runtime, vm: VmState): VmRuntimeState {
    return runtime.vms.get(vm.libvirtName) ?? (this.state.saved?.[vm.name] ? 'saved' : 'down')
  }

  /** Refuse guest access to a VM that is not running, saying how to start it. */
  async requireRunning(vm: VmState): Promise<void> {
    const state = this.vmState(await this.provider.runtime(), vm)
    if (state !== 'running') {
      throw new LagoError('VM', `VM ${vm.name} is not running (state: ${state}).`, {hint: `Start it with "lago start ${vm.name}".`, detail: {vm: vm.name, state}})
    }
  }

  /** Wait for SSH within the VM's boot deadline (or `timeoutSeconds`); on timeout say which VM, its state and its console. */
  async waitForVm(vm: VmState, signal?: AbortSignal, timeoutSeconds?: number): Promise<void> {
    const seconds = timeoutSeconds ?? vm.bootTimeout ?? this.config.ssh.boot_timeout
    const {waitForSsh, SshRefusedError} = await ssh()
    try {
      await waitForSsh(await this.sshTarget(vm), {deadline: Date.now() + seconds * 1000, signal, refusalMs: this.config.ssh.refusal_timeout * 1000})
    } catch (error) {
      if (error instanceof SshRefusedError) throw refusedError(vm, error, this.paths)
      if (!(error instanceof LagoError) || error.code !== 'SSH') throw error
      events.vmState(vm.name, 'unreachable', error.message)
      const state = (await this.provider.runtime()).vms.get(vm.libvirtName) ?? 'down'
      const console = await this.consoleTail(vm)
      throw new LagoError('SSH', `VM ${vm.name} did not answer on SSH within ${seconds} s (state: ${state}). ${error.message}`, {
        hint: `Last lines of its serial console (${this.paths.consoleLog(vm.name)}):\n${console || '(empty)'}`,
        detail: {vm: vm.name, state},
      })
    }
  }

  async consoleTail(vm: VmState, lines = 15): Promise<string> {
    const file = this.paths.consoleLog(vm.name)
    const provider = this.provider
    let text: string
    try {
      text = (provider.consoleText ? await provider.consoleText(file) : await readTextIfExists(file)) ?? ''
    } catch (error) {
      // Said in place of the tail: this is the hint of another error, which must still be told.
      return `(could not read ${file}: ${errorMessage(error)})`
    }
    return text.replace(/\r/g, '').trimEnd().split('\n').slice(-lines).join('\n')
  }

  /** Power off (hard) the named VMs or all, then the networks no running VM (and, with keepSavedNetworks, no saved VM) still uses. */
  async stop(names: string[] = [], options: {keepSavedNetworks?: boolean} = {}): Promise<void> {
    const provider = this.provider
    const vms = names.length > 0 ? names.map((n) => this.vm(n)) : this.state.vms
    const stopped = (vm: VmState) => async () => {
      await this.removal('domain', vm.libvirtName, () => provider.stopVm(vm))
      events.vmState(vm.name, 'stopped')
    }
    // A saved environment is suspended, not off: its VMs resume on the networks they left.
    const kept = new Set(options.keepSavedNetworks && provider.mode !== 'session' ? this.state.vms.filter((vm) => this.state.saved?.[vm.name]).flatMap((vm) => vm.nics.map((n) => n.net)) : [])
    const netsDown = this.state.nets.filter((net) => !kept.has(net.name))
    if (vms.length === this.state.vms.length) {
      // No VM will be left to use a network: the networks go down together with the domains.
      await Promise.all([...vms.map((vm) => stopped(vm)()), ...netsDown.map((net) => this.removal('network', net.libvirtName, () => provider.stopNet(net)))])
      return
    }
    await Promise.all(vms.map((vm) => stopped(vm)()))
    const runtime = await provider.runtime()
    const stillUsed = new Set(this.state.vms.filter((vm) => runtime.vms.get(vm.libvirtName) === 'running').flatMap((vm) => vm.nics.map((n) => n.net)))
    if (provider.mode === 'session') return
    for (const net of netsDown.filter((n) => !stillUsed.has(n.name))) await this.removal('network', net.libvirtName, () => provider.stopNet(net))
  }

  /** Make `kind:name`, recorded in the journal before and after (when a command holds the prefix). */
  async recorded(kind: ObjectKind, name: string, make: () => Promise<void>): Promise<void> {
    if (this.journal) await this.journal.making(kind, name, make)
    else await make()
  }

  private async removal(kind: ObjectKind, name: string, remove: () => Promise<void>): Promise<void> {
    await this.journal?.removing(kind, name)
    await remove()
    await this.journal?.removed(kind, name)
  }

  /** Stop everything and give the subnets back; idempotent. The prefix directory stays. */
  async cleanup(): Promise<{releasedSubnets: string[]}> {
    await this.stop()
    await (await import('./saved.js')).removeSaveFiles(this)
    const {SubnetLeases} = await import('../network/leases.js')
    const leases = new SubnetLeases(this.config.lago.lease_dir, this.config.lago.subnet_first, this.config.lago.subnet_count)
    const owner = {uuidFile: this.paths.uuid, uuid: this.state.uuid}
    const releasedSubnets = await leases.release(owner)
    await this.releaseTemplates()
    await this.provider.removeFiles?.()
    await rm(this.paths.initialized, {force: true})
    return {releasedSubnets}
  }

  /** Write state.json; writes from concurrent tasks go one after another, so the last change lands last. */
  async saveState(): Promise<void> {
    const write = this.stateWrites.catch(() => undefined).then(() => writeJsonAtomic(this.paths.state, this.state, SECRET_FILE_MODE))
    this.stateWrites = write
    await write
  }

  /** Tell the template store this prefix no longer uses its templates (so prune may drop them). */
  async releaseTemplates(): Promise<void> {
    const {TemplateStore} = await import('../templates/store.js')
    const owner = {uuidFile: this.paths.uuid, uuid: this.state.uuid}
    for (const disk of this.state.vms.flatMap((vm) => vm.disks)) {
      if (!disk.template || disk.template.readOnly) continue
      await new TemplateStore(path.dirname(disk.template.storePath)).release(disk.template.id, owner).catch((error: unknown) => {
        log.warn(`could not release template ${disk.template!.id}: ${String(error)}`)
      })
    }
  }

  async ssh(vm: VmState, signal?: AbortSignal) {
    return (await ssh()).connect(await this.sshTarget(vm), undefined, signal)
  }

  /** Whether the VM's SSH server answers (its identification line) within `timeoutMs`; no login. */
  async sshAnswers(vm: VmState, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    const endpoint = await this.provider.sshEndpoint(vm, this.managementIp(vm))
    return (await ssh()).sshAnswers({host: endpoint.host, port: endpoint.port, sock: endpoint.connect}, timeoutMs, signal)
  }

  /** A connection to a running VM: at once when its SSH answers, else after waiting for it (one login, not two). */
  async connectWhenReady(vm: VmState, signal?: AbortSignal, timeoutSeconds?: number) {
    try {
      return await this.ssh(vm)
    } catch {
      await this.waitForVm(vm, signal, timeoutSeconds)
      return this.ssh(vm)
    }
  }

  /** Run a shell command on a running VM and capture its output (the SDK's `exec`). */
  async exec(name: string, command: string, options: {input?: string; signal?: AbortSignal} = {}): Promise<{exitCode: number; stdout: string; stderr: string}> {
    const {execCapture} = await ssh()
    return this.withGuest(name, options.signal, (client) => execCapture(client, command, options.input))
  }

  /** Copy a local file or directory tree to a running VM (into REMOTE when it is a directory). */
  async copyTo(name: string, local: string, remote: string, signal?: AbortSignal): Promise<{files: number; bytes: number}> {
    const {copyToGuest} = await import('../ssh/copy.js')
    return this.withGuest(name, signal, (client) => copyToGuest(client, local, remote))
  }

  /** Copy a file or directory tree from a running VM here (into LOCAL when it is a directory). */
  async copyFrom(name: string, remote: string, local: string, signal?: AbortSignal): Promise<{files: number; bytes: number}> {
    const {copyFromGuest} = await import('../ssh/copy.js')
    return this.withGuest(name, signal, (client) => copyFromGuest(client, remote, local))
  }

  /**
   * A local guest: log in while libvirt says whether the VM runs (each costs a process or a
   * handshake; together, the longer of the two). Not running: the login is given up and
   * libvirt's answer is the error; a login that fails on a running VM waits as `checked` does.
   */
  private async loginWhileAsking(vm: VmState, checked: () => Promise<import('ssh2').Client>): Promise<import('ssh2').Client> {
    const giveUp = new AbortController()
    const login = this.ssh(vm, giveUp.signal).catch(() => undefined)
    try {
      await this.requireRunning(vm)
    } catch (error) {
      giveUp.abort()
      ;(await login)?.end()
      throw error
    }
    return (await login) ?? checked()
  }

  /** Connect to a running VM (waiting for its SSH), run `work`, disconnect. */
  async withGuest<T>(name: string, signal: AbortSignal | undefined, work: (client: import('ssh2').Client) => Promise<T>): Promise<T> {
    this.requireInitialized()
    const vm = this.vm(name)
    const checked = async () => {
      await this.requireRunning(vm)
      return this.connectWhenReady(vm, signal)
    }
    // Through a tunnel every libvirt query costs a round trip to the hypervisor: log in at
    // once, and ask libvirt why only when that fails.
    const tunnelled = (await this.sshTarget(vm)).sock !== undefined
    const client = tunnelled ? await this.ssh(vm).catch(checked) : await this.loginWhileAsking(vm, checked)
    try {
      return await (await ssh()).whileConnected(client, () => work(client))
    } finally {
      client.end()
    }
  }
}

/** A VM whose SSH server is up but will not let us in: name it, what was refused, and the fix. */
function refusedError(vm: VmState, error: import('../ssh/client.js').SshRefusedError, paths: PrefixPaths): LagoError {
  const refused = error.target.password === undefined ? `the prefix key ${paths.privateKey}` : `the prefix key ${paths.privateKey} and the configured ssh-password`
  const seconds = Math.round(error.refusedForMs / 1000)
  return new LagoError('SSH', `VM ${vm.name} is up but its SSH server (${error.target.host}) refuses user ${error.target.user}: it rejected ${refused} for ${seconds} s.`, {
    hint:
      `The guest's ~${error.target.user}/.ssh/authorized_keys lacks ${paths.privateKey}.pub (a template that does not carry the prefix key, or one initialised with --skip-bootstrap). ` +
      `Fix: let Lago bootstrap the guest (init without --skip-bootstrap), put the key into the template, or set ssh-user/ssh-password for ${vm.name} in the init file. ` +
      `A guest that installs keys late may get more time: [ssh] refusal_timeout in lago.conf (or LAGO__SSH__REFUSAL_TIMEOUT).`,
    detail: {vm: vm.name, user: error.target.user, host: error.target.host, refused: error.detail.refused, seconds},
  })
}

/** Where a disk is: its path on the remote hypervisor and that host's name, else its path here. */
function diskLocation(provider: Provider, file: string): {path: string; host?: string} {
  const remote = provider.remoteHost === undefined ? undefined : provider.hostPath?.(file)
  return remote === undefined ? {path: file} : {path: remote, host: provider.remoteHost}
}

/** Refuse to start VMs whose memory the hypervisor host does not have free. */
function checkMemory(vms: VmState[], availableMiB: number): void {
  const needed = vms.reduce((sum, vm) => sum + vm.memory, 0)
  if (vms.length > 0 && needed > availableMiB) {
    throw new LagoError('HOST', `Not enough free memory: the VMs to start need ${needed} MiB, the host has ${availableMiB} MiB available.`, {
      hint: "Stop other environments, lower the VMs' memory in the init file, or pass --force to start anyway.",
      detail: {neededMiB: needed, availableMiB},
    })
  }
}
