/**
 * One error type for everything Lago reports to people. `userError` errors are the
 * user's to fix (exit 2, no stack trace); anything else is a bug or an environment
 * failure (exit 1, stack trace at debug level).
 */
export type LagoErrorCode =
  | 'INIT_FILE'
  | 'TEMPLATE'
  | 'TEMPLATE_REPO'
  | 'PREFIX_EXISTS'
  | 'NO_PREFIX'
  | 'PREFIX'
  | 'LOCKED'
  | 'TOOL'
  | 'VM'
  | 'LIBVIRT'
  | 'LIBVIRT_UNREACHABLE'
  | 'PERMISSION'
  | 'SUBNET'
  | 'SSH'
  | 'CONFIG'
  | 'HOST'
  | 'ABORTED'
  | 'USAGE'
  | 'REPO'
  | 'TESTS'
  | 'DEPLOY'
  | 'COLLECT'
  | 'BOOTSTRAP'
  | 'INTERNAL'

export interface LagoErrorOptions {
  /** What would fix it, shown after the message. */
  hint?: string
  /** Machine-readable detail for --json output. */
  detail?: Record<string, unknown>
  /** Defaults to true: the user can fix it. */
  userError?: boolean
  cause?: unknown
}

export class LagoError extends Error {
  readonly code: LagoErrorCode
  readonly hint?: string
  readonly detail: Record<string, unknown>
  readonly userError: boolean
  /** Marker that survives a second copy of this module (plugins may bring their own). */
  readonly isLagoError = true

  constructor(code: LagoErrorCode, message: string, options: LagoErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : {cause: options.cause})
    this.name = 'LagoError'
    this.code = code
    this.hint = options.hint
    this.detail = options.detail ?? {}
    this.userError = options.userError ?? true
  }

  /** The message as printed for people: message, then the fix. */
  get text(): string {
    return this.hint ? `${this.message}\n${this.hint}` : this.message
  }

  get exitCode(): number {
    return this.userError ? 2 : 1
  }

  toJSON(): Record<string, unknown> {
    return {code: this.code, message: this.message, hint: this.hint, ...this.detail}
  }
}

export function isLagoError(error: unknown): error is LagoError {
  return typeof error === 'object' && error !== null && (error as {isLagoError?: unknown}).isLagoError === true
}

/** Thrown when a signal interrupts work; carries the exit code 128+N. */
export class AbortedError extends LagoError {
  readonly signal: NodeJS.Signals

  constructor(signal: NodeJS.Signals) {
    super('ABORTED', `Interrupted by ${signal}; what was started has been rolled back.`)
    this.signal = signal
  }

  override get exitCode(): number {
    return 128 + signalNumber(this.signal)
  }
}

const SIGNAL_NUMBERS: Partial<Record<NodeJS.Signals, number>> = {SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGTERM: 15}

export function signalNumber(signal: NodeJS.Signals): number {
  return SIGNAL_NUMBERS[signal] ?? 15
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
