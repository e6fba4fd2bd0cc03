import {constants} from 'node:fs'
import {access, readFile, stat} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import {DEFAULT_CONFIG, type LagoConfig} from '../../config/config.js'
import {log} from '../../log.js'
import {modeOf} from '../../session/mode.js'
import {whichFirst} from '../../util/exec.js'
import {writeJsonAtomic} from '../../util/fs.js'
import {runKvmProbe} from './kvm-probe.js'
import {Virsh} from './virsh.js'

import type {DomainType} from '../provider.js'

export type {DomainType}

type LibvirtSettings = LagoConfig['libvirt']

export interface KvmStatus {
  works: boolean
  /**
   * ok; no-qemu: no emulator to try it with; no-dev-kvm: /dev/kvm missing; no-kvm-access: qemu
   * runs as this user (session libvirt), who may not open /dev/kvm; probe-failed: the
   * probe guest died under KVM; start-failed: a VM of Lago's died under KVM; unknown: not
   * probed yet (probe: false).
   */
  reason: 'ok' | 'no-qemu' | 'no-dev-kvm' | 'no-kvm-access' | 'probe-failed' | 'start-failed' | 'unknown'
  /** qemu's (or the probe guest's) own words for the failure. */
  detail?: string
  /** Who decided: the probe, or a start whose VM died under KVM. */
  source?: 'probe' | 'start'
  /** When that was recorded (ISO 8601). */
  at?: string
  /** How long the probe took, when it ran. */
  probeSeconds?: number
  /** The answer came from the cache (no guest was booted now). */
  cached: boolean
  /** The CPU configuration it holds for: host-passthrough or custom:MODEL. */
  cpu: string
}

export interface KvmStatusOptions {
  /** A VM's cpu_model; undefined for host-passthrough. */
  cpuModel?: string
  /** false: answer from the cache only, never boot the probe guest. */
  probe?: boolean
  cacheDir?: string
  signal?: AbortSignal
}

interface CacheEntry {
  works: boolean
  reason: KvmStatus['reason']
  detail?: string
  source: 'probe' | 'start'
  at: string
  probeSeconds?: number
}

interface CacheFile {
  version: 2
  entries: Record<string, CacheEntry>
}

/**
 * Does a guest configured exactly like Lago's domains run under KVM here? /dev/kvm may exist
 * and KVM still fail (nested hosts: MSRs the CPU model sets, "KVM internal error" in a boot
 * loader), so the answer comes from booting the probe guest through libvirt (kvm-probe.ts),
 * or from a start whose VM died under KVM. Cached per kernel, emulator binary, libvirt
 * daemon, URI and CPU mode.
 */
export async function kvmStatus(settings: LibvirtSettings = DEFAULT_CONFIG.libvirt, options: KvmStatusOptions = {}): Promise<KvmStatus> {
  const cpu = cpuKey(options.cpuModel)
  const local = isLocalUri(settings.uri)
  const emulator = settings.emulator || (local ? await whichFirst(['qemu-system-x86_64', 'qemu-kvm']) : '')
  if (local && !emulator) return {works: false, reason: 'no-qemu', cached: false, cpu}
  if (local && !(await exists('/dev/kvm'))) return {works: false, reason: 'no-dev-kvm', cached: false, cpu}
  if (local && modeOf(settings.uri) === 'session' && !(await canOpen('/dev/kvm'))) return {works: false, reason: 'no-kvm-access', cached: false, cpu}
  const key = await cacheKey(settings, emulator ?? '', cpu)
  const cacheFile = path.join(options.cacheDir ?? defaultCacheDir(), 'kvm-probe.json')
  const cache = await readCache(cacheFile)
  const hit = cache.entries[key]
  if (hit) return {...hit, cached: true, cpu}
  if (options.probe === false) return {works: false, reason: 'unknown', cached: false, cpu}
  const probe = await runKvmProbe({uri: settings.uri, emulator: settings.emulator, cpuModel: options.cpuModel}, options.signal)
  const entry: CacheEntry = {
    works: probe.works,
    reason: probe.works ? 'ok' : 'probe-failed',
    detail: probe.detail,
    source: 'probe',
    at: new Date().toISOString(),
    probeSeconds: probe.seconds,
  }
  log.info(`KVM probe (${cpu}, ${probe.seconds.toFixed(2)} s): ${probe.works ? 'a KVM guest runs here' : `KVM is not usable: ${probe.detail}`}`)
  await writeEntry(cacheFile, key, entry)
  return {...entry, cached: false, cpu}
}

/** Remember that a VM of Lago's died under KVM here, so later starts go straight to TCG. */
export async function recordKvmFailure(settings: LibvirtSettings, cpuModel: string | undefined, detail: string, cacheDir = defaultCacheDir()): Promise<void> {
  const emulator = settings.emulator || (isLocalUri(settings.uri) ? await whichFirst(['qemu-system-x86_64', 'qemu-kvm']) : '')
  const key = await cacheKey(settings, emulator ?? '', cpuKey(cpuModel))
  await writeEntry(path.join(cacheDir, 'kvm-probe.json'), key, {works: false, reason: 'start-failed', detail, source: 'start', at: new Date().toISOString()})
}

export async function kvmWorks(settings: LibvirtSettings = DEFAULT_CONFIG.libvirt, options: KvmStatusOptions = {}): Promise<boolean> {
  return (await kvmStatus(settings, options)).works
}

export async function resolveDomainType(settings: LibvirtSettings, options: KvmStatusOptions = {}): Promise<DomainType> {
  if (settings.domain_type !== 'auto') return settings.domain_type
  return (await kvmWorks(settings, options)) ? 'kvm' : 'qemu'
}

export function cpuKey(cpuModel: string | undefined): string {
  return cpuModel ? `custom:${cpuModel}` : 'host-passthrough'
}

function isLocalUri(uri: string): boolean {
  return /^[a-z0-9]+(\+unix)?:\/\/\//i.test(uri)
}

async function cacheKey(settings: LibvirtSettings, emulator: string, cpu: string): Promise<string> {
  const local = isLocalUri(settings.uri)
  const parts = [settings.uri, cpu, local ? os.release() : '', emulator, local ? await fileIdentity(emulator) : '']
  if (local) {
    for (const daemon of ['/usr/sbin/libvirtd', '/usr/sbin/virtqemud']) parts.push(await fileIdentity(daemon))
  } else {
    parts.push((await new Virsh(settings.uri).run(['version'], {reject: false})).stdout.replace(/\s+/g, ' '))
  }
  return parts.join('|')
}

async function fileIdentity(file: string): Promise<string> {
  try {
    const info = await stat(file)
    return `${info.size}@${info.mtimeMs}`
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'absent'
    throw error
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file)
    return true
  } catch (error) {
    // Only "missing" is missing: anything else (EACCES) is for the real thing to decide.
    return (error as NodeJS.ErrnoException).code !== 'ENOENT'
  }
}

async function readCache(file: string): Promise<CacheFile> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') log.warn(`cannot read the KVM decision cache ${file} (${(error as NodeJS.ErrnoException).code}); probing again`)
    return {version: 2, entries: {}}
  }
  try {
    const parsed = JSON.parse(text) as Partial<CacheFile>
    if (parsed.version === 2 && parsed.entries && typeof parsed.entries === 'object') return parsed as CacheFile
  } catch {
    log.debug(`${file} is not valid JSON; probing again`)
  }
  return {version: 2, entries: {}}
}

async function writeEntry(file: string, key: string, entry: CacheEntry): Promise<void> {
  try {
    const cache = await readCache(file)
    cache.entries[key] = entry
    await writeJsonAtomic(file, cache)
  } catch (error) {
    log.warn(`could not record the KVM decision in ${file}: ${String(error)}`)
  }
}

async function canOpen(device: string): Promise<boolean> {
  return access(device, constants.R_OK | constants.W_OK).then(
    () => true,
    () => false,
  )
}

function defaultCacheDir(): string {
  return path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'lago')
}
