import type {OptionSpec} from './options.js'

/** What the original's global options (given before the verb) turn into. */
export interface GlobalSettings {
  logLevel?: string
  outFormat?: string
  prefixPath?: string
  workdirPath?: string
  prefixName?: string
  /** Configuration the options set, as LAGO_* environment variables (flags beat the environment). */
  env: Record<string, string>
  notices: string[]
  ignoreWarnings: boolean
}

interface GlobalOption extends OptionSpec {
  apply(settings: GlobalSettings, value: string, spelled: string): void
}

const LOG_LEVELS = ['info', 'debug', 'error', 'warning']
const OUT_FORMATS = ['default', 'json', 'yaml', 'flat']

export class GlobalOptionError extends Error {}

function choice(spelled: string, value: string, choices: string[]): string {
  if (!choices.includes(value)) throw new GlobalOptionError(`${spelled}: "${value}" is not one of ${choices.join(', ')}.`)
  return value
}

const ignored =
  (why: string) =>
  (settings: GlobalSettings, _value: string, spelled: string): void => {
    settings.notices.push(`${spelled} is accepted for compatibility and ignored: ${why}.`)
  }

const toEnv =
  (name: string) =>
  (settings: GlobalSettings, value: string): void => {
    settings.env[name] = value
  }

/** The final Python Lago's global options (lago -h), in its spelling. */
export const GLOBAL_OPTIONS: GlobalOption[] = [
  {long: ['loglevel', 'log-level'], short: 'l', arity: 1, apply: (s, v, spelled) => void (s.logLevel = choice(spelled, v, LOG_LEVELS))},
  {long: ['logdepth'], arity: 1, apply: ignored('the progress display shows every level of nested tasks')},
  {long: ['out-format'], short: 'f', arity: 1, apply: (s, v, spelled) => void (s.outFormat = choice(spelled, v, OUT_FORMATS))},
  {long: ['prefix-path'], short: 'p', arity: 1, apply: (s, v) => void (s.prefixPath = v)},
  {long: ['workdir-path'], short: 'w', arity: 1, apply: (s, v) => void (s.workdirPath = v)},
  {long: ['prefix-name'], short: 'P', arity: 1, apply: (s, v) => void (s.prefixName = v)},
  {long: ['ssh-user'], arity: 1, apply: toEnv('LAGO__SSH__USER')},
  {long: ['ssh-password'], arity: 1, apply: ignored('Lago logs in with the prefix SSH key only')},
  {long: ['ssh-tries'], arity: 1, apply: ignored('SSH waits are bounded by the [ssh] boot_timeout setting (seconds)')},
  {long: ['ssh-timeout'], arity: 1, apply: ignored('SSH waits are bounded by the [ssh] boot_timeout setting (seconds)')},
  {long: ['libvirt_url', 'libvirt-url'], arity: 1, apply: toEnv('LAGO__LIBVIRT__URI')},
  {long: ['libvirt-user', 'libvirt_user'], arity: 1, apply: ignored('libvirt authenticates through its URI and polkit')},
  {long: ['libvirt-password', 'libvirt_password'], arity: 1, apply: ignored('libvirt authenticates through its URI and polkit')},
  {long: ['default_vm_type', 'default-vm-type'], arity: 1, apply: ignored('a VM without vm-type is a plain VM')},
  {long: ['default_vm_provider', 'default-vm-provider'], arity: 1, apply: ignored('libvirt is the only VM provider')},
  {long: ['default_root_password', 'default-root-password'], arity: 1, apply: ignored('guests are reached with the prefix SSH key; set root-password per VM in the init file')},
  {long: ['lease_dir', 'lease-dir'], arity: 1, apply: toEnv('LAGO_LEASE_DIR')},
  {long: ['reposync-dir', 'reposync_dir'], arity: 1, apply: toEnv('LAGO__OVIRT__REPOSYNC_DIR')},
  {long: ['ignore-warnings'], arity: 0, apply: (s) => void ((s.ignoreWarnings = true), (s.env.LAGO_IGNORE_WARNINGS = 'true'))},
]
