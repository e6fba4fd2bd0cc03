import {readdir, readFile} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import {LagoError} from '../errors.js'
import {controlCharacterIn} from '../util/safe-path.js'
import {mapOriginalKeys, type IgnoredKey} from './original-keys.js'

/**
 * Layered configuration: built-in defaults < /etc/lago.d/*.conf (INI) <
 * ~/.config/lago/lago.conf < LAGO__SECTION__KEY (and LAGO_KEY for [lago]) < flags.
 */
export interface LagoConfig {
  lago: {
    log_level: 'debug' | 'info' | 'warning' | 'error'
    template_store: string
    /** The shared store session (rootless) mode takes templates from, read-only, when this user can read it. */
    system_store: string
    template_repos: string
    lease_dir: string
    /** First /24 handed out to prefixes, e.g. 192.168.200.0 */
    subnet_first: string
    /** How many consecutive /24 subnets the lease pool holds. */
    subnet_count: number
    /** Group that shares the store, repos and leases and may use libvirt ("lago setup" creates it). */
    group: string
    /** Where "lago setup" installs the polkit rule for that group. */
    polkit_rules_dir: string
    /** Free space the doctor wants under the template store and under a prefix (sizes: 10G, 200M). */
    store_min_free: string
    prefix_min_free: string
    /** Seconds a command waits for another one changing the same prefix. */
    lock_timeout: number
    /** The provider new prefixes are made on (docs/plugins.md): libvirt, or one a plugin registers. */
    provider: string
  }
  libvirt: {
    uri: string
    domain_type: 'auto' | 'kvm' | 'qemu'
    /** The account qemu runs as under the system libvirt; empty = read /etc/libvirt/qemu.conf. */
    qemu_user: string
    /** The domains' `<emulator>` (absolute path); empty = libvirt's default qemu. */
    emulator: string
  }
  ssh: {
    user: string
    /** Seconds a VM may take from start until SSH answers. */
    boot_timeout: number
    /** Seconds a VM's SSH server may refuse our key (and password) before start gives up on it. */
    refusal_timeout: number
  }
  /** Remote hypervisors by name (docs/remote.md): `[hypervisors]` NAME = qemu+ssh://USER@HOST/system. */
  hypervisors: Record<string, string>
  remote: {
    /** The directory on a remote hypervisor where Lago keeps disks, seeds, console logs and its template store. */
    dir: string
    /** Seconds OpenSSH keeps a login to a hypervisor open after a command (ControlPersist) for the next one to reuse; 0: every command logs in. */
    persist_seconds: number
  }
  download: {
    /** Failed attempts in a row (no byte gained) before a template download gives up. */
    retries: number
    /** First wait before retrying, in milliseconds; doubles each time (at most 30 s). */
    backoff_ms: number
    /** Seconds without a byte before a connection counts as dropped (and is resumed). */
    stall_timeout: number
    /** Store repository templates that publish no `.hash` (unverified); refused by default. */
    allow_unverified: boolean
  }
  ci: {
    /** Collect every VM's logs into failures_dir when start, deploy, ovirt deploy or ovirt runtest fails. */
    collect_on_failure: boolean
    /** Collect them after those verbs succeed too (--collect-always). */
    collect_always: boolean
    /** Where: PREFIX/.lago/failures when empty; a relative path is taken from the prefix. */
    failures_dir: string
    /** Seconds a failure collection waits for a running VM's SSH before reading its disk instead. */
    collect_timeout: number
    /** Without a terminal, a progress line at least this often (seconds) while work goes on. */
    heartbeat_seconds: number
  }
}

export const DEFAULT_CONFIG: LagoConfig = {
  lago: {
    log_level: 'info',
    template_store: '/var/lib/lago/store',
    system_store: '/var/lib/lago/store',
    template_repos: '/var/lib/lago/repos',
    lease_dir: '/var/lib/lago/subnets',
    subnet_first: '192.168.200.0',
    subnet_count: 56,
    group: 'lago',
    polkit_rules_dir: '/etc/polkit-1/rules.d',
    store_min_free: '10G',
    prefix_min_free: '200M',
    lock_timeout: 600,
    provider: 'libvirt',
  },
  libvirt: {uri: 'qemu:///system', domain_type: 'auto', qemu_user: '', emulator: ''},
  ssh: {user: 'root', boot_timeout: 600, refusal_timeout: 30},
  hypervisors: {},
  remote: {dir: '/var/lib/lago-remote', persist_seconds: 60},
  download: {retries: 5, backoff_ms: 1000, stall_timeout: 30, allow_unverified: false},
  ci: {collect_on_failure: true, collect_always: false, failures_dir: '', collect_timeout: 15, heartbeat_seconds: 30},
}

const CHOICES: Record<string, readonly string[]> = {
  'lago.log_level': ['debug', 'info', 'warning', 'error'],
  'libvirt.domain_type': ['auto', 'kvm', 'qemu'],
}

const BOOLEANS: Record<string, boolean> = {true: true, yes: true, on: true, '1': true, false: false, no: false, off: false, '0': false}

export type ConfigOverrides = {[S in keyof LagoConfig]?: Partial<LagoConfig[S]>}

export interface LoadConfigOptions {
  env?: NodeJS.ProcessEnv
  /** Directory of system config files; default /etc/lago.d (with /etc/lago/lago.conf and /etc/xdg/lago/lago.conf around it) */
  systemDir?: string
  /** User config file; default ~/.config/lago/lago.conf */
  userFile?: string
  overrides?: ConfigOverrides
}

/** One source of settings; the original Lago's keys already moved to their new places. */
export type Layer = {source: string; values: Record<string, Record<string, unknown>>; ignored?: IgnoredKey[]}

export async function loadConfig(options: LoadConfigOptions = {}): Promise<LagoConfig> {
  const layers = await readConfigLayers(options)
  if (options.overrides) layers.push({source: 'command-line flags', values: options.overrides})
  const {applyLibvirtMode} = await import('../session/mode.js')
  return applyLibvirtMode(mergeLayers(layers), options.env)
}

/**
 * Every source in precedence order: /etc/lago/lago.conf < /etc/lago.d/*.conf <
 * $XDG_CONFIG_DIRS/lago/lago.conf < ~/.lago (the 2015 file) < ~/.config/lago/lago.conf < the
 * environment. LAGO_SYSTEM_CONFIG_DIR (or systemDir) replaces the system part by DIR/*.conf.
 */
export async function readConfigLayers(options: LoadConfigOptions = {}): Promise<Layer[]> {
  const env = options.env ?? process.env
  const systemDir = options.systemDir ?? env.LAGO_SYSTEM_CONFIG_DIR
  const home = env.HOME ?? os.homedir()
  const userFile = options.userFile ?? path.join(env.XDG_CONFIG_HOME ?? path.join(home, '.config'), 'lago', 'lago.conf')
  const system = systemDir
    ? await systemLayers(systemDir)
    : [...(await fileLayer('/etc/lago/lago.conf')), ...(await systemLayers('/etc/lago.d')), ...(await xdgLayers((env.XDG_CONFIG_DIRS ?? '/etc/xdg').split(':').filter(Boolean)))]
  const user = options.userFile ? [] : await fileLayer(path.join(home, '.lago'))
  const layers = [...system, ...user, ...(await fileLayer(userFile)), envLayer(env)]
  return layers.map((layer) => {
    const mapped = mapOriginalKeys(layer.values)
    return {source: layer.source, values: mapped.values, ignored: [...(layer.ignored ?? []), ...mapped.ignored]}
  })
}

/** The XDG system directories, most important first (so the first one is applied last). */
async function xdgLayers(dirs: string[]): Promise<Layer[]> {
  const layers: Layer[] = []
  for (const dir of [...dirs].reverse()) layers.push(...(await fileLayer(path.join(dir, 'lago', 'lago.conf'))))
  return layers
}

export function mergeLayers(layers: Layer[]): LagoConfig {
  const config = structuredClone(DEFAULT_CONFIG) as unknown as Record<string, Record<string, unknown>>
  for (const layer of layers) {
    for (const [section, values] of Object.entries(layer.values)) {
      const target = config[section]
      if (!target) continue // unknown sections belong to plugins
      if (section === 'hypervisors') {
        Object.assign(target, hypervisorEntries(values, layer.source))
        continue
      }
      for (const [key, raw] of Object.entries(values ?? {})) {
        if (raw === undefined || !(key in target)) continue
        target[key] = coerce(`${section}.${key}`, raw, target[key], layer.source)
      }
    }
  }
  return config as unknown as LagoConfig
}

/** `[hypervisors]` NAME = URI: names are safe words, values libvirt URIs that name a host. */
function hypervisorEntries(values: Record<string, unknown>, source: string): Record<string, string> {
  const entries: Record<string, string> = {}
  for (const [name, raw] of Object.entries(values ?? {})) {
    const uri = String(raw)
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) {
      throw new LagoError('CONFIG', `Invalid hypervisor name "${name}" in ${source}: expected letters, digits, ".", "_" or "-".`)
    }
    if (!/^[a-z0-9]+(\+[a-z0-9]+)?:\/\/[^/]/i.test(uri)) {
      throw new LagoError('CONFIG', `Invalid value "${uri}" for hypervisors.${name} in ${source}: expected a libvirt URI naming a host, e.g. qemu+ssh://root@host/system.`)
    }
    entries[name] = uri
  }
  return entries
}

function coerce(name: string, raw: unknown, current: unknown, source: string): unknown {
  let value: unknown = raw
  if (typeof current === 'boolean') {
    value = typeof raw === 'boolean' ? raw : BOOLEANS[String(raw).toLowerCase()]
    if (value === undefined) throw new LagoError('CONFIG', `Invalid value "${String(raw)}" for ${name} in ${source}: expected true or false.`)
    return value
  }
  if (typeof current === 'number') {
    value = Number(raw)
    if (!Number.isFinite(value)) {
      throw new LagoError('CONFIG', `Invalid value "${String(raw)}" for ${name} in ${source}: expected a number.`)
    }
  } else {
    value = String(raw)
  }
  if (name === 'libvirt.emulator' && value !== '' && (!String(value).startsWith('/') || controlCharacterIn(String(value)))) {
    throw new LagoError('CONFIG', `Invalid value "${String(raw)}" for ${name} in ${source}: expected an absolute path to a qemu binary, or nothing for libvirt's default.`)
  }
  const choices = CHOICES[name]
  if (choices && !choices.includes(value as string)) {
    throw new LagoError('CONFIG', `Invalid value "${String(raw)}" for ${name} in ${source}: expected one of ${choices.join(', ')}.`)
  }
  return value
}

async function systemLayers(dir: string): Promise<Layer[]> {
  let names: string[]
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith('.conf')).sort()
  } catch {
    return []
  }
  const layers: Layer[] = []
  for (const name of names) layers.push(...(await fileLayer(path.join(dir, name))))
  return layers
}

async function fileLayer(file: string): Promise<Layer[]> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch {
    return [] // absent, or a directory (~/.lago is a workdir when Lago ran in $HOME)
  }
  const {parse} = await import('ini')
  return [{source: file, values: parse(text)}]
}

/** LAGO__SECTION__KEY=value, and LAGO_KEY=value for the [lago] section. */
export function envLayer(env: NodeJS.ProcessEnv): Layer {
  const values: Layer['values'] = {}
  const ignored: IgnoredKey[] = []
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) continue
    const sectioned = /^LAGO__([A-Za-z0-9_]+?)__([A-Za-z0-9_]+)$/.exec(name)
    const plain = /^LAGO_([A-Za-z0-9][A-Za-z0-9_]*)$/.exec(name)
    const [section, key] = sectioned ? [sectioned[1], sectioned[2]] : plain ? ['lago', plain[1]] : []
    if (!section || !key) continue
    // As the original: an empty value is ignored, with a warning (for the explicit LAGO__SECTION__KEY form).
    if (value === '') {
      if (sectioned) ignored.push({section: section.toLowerCase(), key: key.toLowerCase(), why: `${name} is empty`})
      continue
    }
    ;(values[section.toLowerCase()] ??= {})[key.toLowerCase()] = value
  }
  return {source: 'the environment', values, ignored}
}
