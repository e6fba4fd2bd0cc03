import {isLagoError, type LogLevel} from '@lago/core/prefix'

export interface FailureReport {
  /** The `error` object --json prints. */
  json: Record<string, unknown>
  /** What stderr gets after "Error: ". */
  text: string
  exitCode: number
}

/**
 * How a command reports what failed: a LagoError as itself (its exit code; the stack only at
 * --log-level debug for a non-user error), anything else as an unexpected error (exit 1).
 */
export function failureReport(error: Error, logLevel: LogLevel): FailureReport {
  if (!isLagoError(error)) {
    const text = logLevel === 'debug' ? (error.stack ?? error.message) : `Unexpected error: ${error.message}\n(run again with --log-level debug for the stack trace)`
    return {json: {code: 'INTERNAL', message: error.message}, text, exitCode: 1}
  }
  const text = logLevel === 'debug' && !error.userError ? `${error.text}\n${error.stack}` : error.text
  return {json: error.toJSON(), text, exitCode: error.exitCode}
}
