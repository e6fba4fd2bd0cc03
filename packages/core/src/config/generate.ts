import {DEFAULT_CONFIG, type LagoConfig} from './config.js'

/** What each setting means (the `#` comments of `lago generate-config`). */
export const CONFIG_HELP: Record<string, string> = {
  'lago.log_level': 'Console log level: debug, info, warning or error (unset: warning).',
  'lago.template_store': 'Shared template store (the original also read [init] template_store).',
  'lago.template_repos': 'Cloned template repositories (the original also read [init] template_repos).',
  'lago.lease_dir': 'Host-wide subnet leases.',
  'lago.subnet_first': 'First /24 of the lease pool.',
  'lago.subnet_count': 'Number of /24 subnets in the pool.',
  'lago.group': 'Group sharing the store, repos and leases, allowed to use libvirt ("lago setup" creates it).',
  'lago.polkit_rules_dir': 'Where "lago setup" installs the polkit rule.',
  'lago.store_min_free': 'Free space "lago doctor" wants under the template store.',
  'lago.prefix_min_free': 'Free space "lago doctor" wants under a prefix.',
  'lago.system_store': 'Session (rootless) mode: the shared store whose templates are used read-only when readable.',
  'lago.lock_timeout': 'Seconds a command waits for another one changing the same prefix.',
  'lago.provider': 'The provider new prefixes are made on: libvirt, or one a plugin registers.',
  'libvirt.uri': "libvirt connection (the original's [lago] libvirt_url).",
  'libvirt.domain_type': 'auto (KVM when a KVM guest really runs here, else TCG), kvm or qemu.',
  'libvirt.qemu_user': 'The account qemu runs as; empty = read /etc/libvirt/qemu.conf.',
  'libvirt.emulator': "The qemu binary of the domains and of the KVM probe (libvirt's <emulator>); empty = libvirt's default.",
  'ssh.user': "Login of VMs whose init file gives no ssh-user (the original's [lago] ssh_user).",
  'ssh.boot_timeout': 'Seconds from start until SSH must answer.',
  'ssh.refusal_timeout': 'Seconds an SSH server that answers may refuse the prefix key (and password) before start fails.',
  'remote.dir': 'On a remote hypervisor ([hypervisors] NAME = qemu+ssh://USER@HOST/system): where Lago keeps disks, seeds, console logs and its template store.',
  'remote.persist_seconds': "How long OpenSSH keeps a command's login to a hypervisor open (ControlPersist) for the next command to reuse; 0 logs in every time.",
  'download.retries': 'Template download attempts in a row without progress before giving up.',
  'download.backoff_ms': 'First wait before a retry, in milliseconds (doubles, at most 30 s).',
  'download.stall_timeout': 'Seconds without a byte before a connection is dropped and resumed.',
  'ci.collect_on_failure': "Collect every VM's artifacts, console and libvirt log when start, deploy, ovirt deploy or ovirt runtest fails.",
  'ci.collect_always': 'Collect them after those verbs succeed too (as --collect-always).',
  'ci.failures_dir': 'Where collections go (DIR/<verb>-<time>/); empty = PREFIX/.lago/failures, relative = from the prefix.',
  'ci.collect_timeout': "Seconds a collection waits for a running VM's SSH before reading its disk instead.",
  'ci.heartbeat_seconds': 'Without a terminal, print a progress line at least this often while work goes on.',
}

/** A verb's section: its flags' defaults, as the original's per-verb sections held them. */
export interface VerbSection {
  /** Section name, e.g. init, ovirt-reposetup. */
  name: string
  /** The command line that reads it, e.g. "ovirt reposetup". */
  command: string
  summary?: string
  options: {key: string; help?: string; value?: string; default?: string}[]
}

/**
 * The effective configuration as a commented INI file that reads back to the same settings:
 * every section and key with its help as `#` comments; what differs from the built-in default
 * is set, the rest is there commented out (`# key = default`); verb options without a value
 * only with `verbose`.
 */
export function renderConfigFile(config: LagoConfig, verbs: VerbSection[], options: {verbose?: boolean; date?: Date} = {}): string {
  const lines = [
    `# Lago configuration file, generated: ${(options.date ?? new Date()).toISOString()}`,
    '# Precedence: /etc/lago/lago.conf < /etc/lago.d/*.conf < /etc/xdg/lago/lago.conf < ~/.config/lago/lago.conf < LAGO__SECTION__KEY < flags.',
  ]
  for (const [section, values] of Object.entries(config) as [string, Record<string, unknown>][]) {
    lines.push('', `[${section}]`)
    const defaults = (DEFAULT_CONFIG as unknown as Record<string, Record<string, unknown>>)[section] ?? {}
    for (const [key, value] of Object.entries(values)) {
      const help = CONFIG_HELP[`${section}.${key}`]
      if (help) lines.push(`# ${help}`)
      lines.push(setting(key, String(value), defaults[key] === undefined ? undefined : String(defaults[key])))
    }
  }
  for (const verb of verbs) {
    const options_ = verb.options.filter((o) => o.value !== undefined || options.verbose)
    if (options_.length === 0) continue
    lines.push('', `# lago ${verb.command}${verb.summary ? `: ${verb.summary}` : ''}`, `[${verb.name}]`)
    for (const option of options_) {
      if (option.help) lines.push(`# ${option.help}`)
      lines.push(option.value === undefined ? `# ${option.key} =` : setting(option.key, option.value, option.default))
    }
  }
  return `${lines.join('\n')}\n`
}

/** `key = value`, commented out when it is the default anyway. */
function setting(key: string, value: string, fallback: string | undefined): string {
  return `${value === fallback ? '# ' : ''}${key} = ${iniValue(value)}`
}

/** Quoted when the INI reader would otherwise cut or change it. */
function iniValue(value: string): string {
  return /^\s|\s$|[;#"]|^$/.test(value) ? JSON.stringify(value) : value
}
