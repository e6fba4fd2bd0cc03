import type {LagoConfig} from '../config/config.js'
import type {LagoErrorCode} from '../errors.js'

/** ok: fine; warn: works but worse (shown "!"); fail: blocks running an environment (shown "✘"). */
export type CheckStatus = 'ok' | 'warn' | 'fail'

/** Commands that run a check's cheap form before they act; `doctor` runs every check. */
export type CheckPurpose = 'doctor' | 'init' | 'start'

export interface QemuPath {
  /** What it is, for people: "template store", "prefix". */
  label: string
  path: string
}

export interface HostCheckContext {
  config: LagoConfig
  purpose: CheckPurpose
  /** Preflight: no probes that boot or scan; cached answers only where one exists. */
  cheap: boolean
  /** Directories qemu must traverse (and whose files it must read), in addition to the configured ones. */
  paths: QemuPath[]
  /** The prefix being checked (doctor --prefix-path, or the one being created or started). */
  prefixPath?: string
  /** The command will write cloud-init seeds (init without --skip-bootstrap); default true. */
  bootstrap: boolean
  signal?: AbortSignal
}

export interface CheckOutcome {
  status: CheckStatus
  /** One line: what was found. */
  message: string
  /** The exact command (or setting) that fixes a warn or fail. */
  fix?: string
  /** Error code used when a preflight turns this outcome into an error. */
  code?: LagoErrorCode
  detail?: Record<string, unknown>
}

export interface HostCheck {
  /** Stable id for --json and for plugins: "libvirt", "ovirt-tools". */
  id: string
  /** Short title printed before the message: "libvirt", "KVM". */
  title: string
  /** Commands that run this check before acting. It must then be cheap (no boot, no scan). */
  preflight?: readonly Exclude<CheckPurpose, 'doctor'>[]
  run(ctx: HostCheckContext): Promise<CheckOutcome>
}

export interface CheckResult extends CheckOutcome {
  id: string
  title: string
}

export const STATUS_SYMBOL: Record<CheckStatus, string> = {ok: '✔', warn: '!', fail: '✘'}

/** "title: message", the text shared by the doctor's line and a preflight error. */
export function checkText(result: Pick<CheckResult, 'title' | 'message'>): string {
  return `${result.title}: ${result.message}`
}

/** The doctor's line for one check, with its fix on the next line. */
export function formatCheckLine(result: CheckResult): string {
  const line = `${STATUS_SYMBOL[result.status]} ${checkText(result)}`
  return result.fix && result.status !== 'ok' ? `${line}\n  ${fixText(result.fix)}` : line
}

export function fixText(fix: string): string {
  return `Fix: ${fix}`
}
