import type {LagoConfig} from '../config/config.js'
import {errorMessage, LagoError} from '../errors.js'
import {log} from '../log.js'
import {checkText, fixText, type CheckPurpose, type CheckResult, type HostCheck, type QemuPath} from './check.js'
import {BUILTIN_HOST_CHECKS} from './checks/index.js'
import {registeredHostChecks} from './registry.js'

export interface HostCheckOptions {
  config: LagoConfig
  /** doctor (default): every check in full; init/start: the cheap checks those commands need. */
  purpose?: CheckPurpose
  prefixPath?: string
  /** More directories qemu must reach (the store an init writes to, the stores a prefix's disks use). */
  paths?: QemuPath[]
  /** init writes cloud-init seeds (needs an ISO writer); default true. */
  bootstrap?: boolean
  /** Only these check ids (default: all). */
  only?: readonly string[]
  signal?: AbortSignal
}

export interface HostReport {
  /** Nothing blocks running an environment (warnings allowed). */
  ok: boolean
  checks: CheckResult[]
  durationMs: number
}

/** Core's checks, then the ones plugins registered (a plugin's check replaces a core one of the same id). */
export function allHostChecks(): HostCheck[] {
  const registered = registeredHostChecks()
  const ids = new Set(registered.map((c) => c.id))
  return [...BUILTIN_HOST_CHECKS.filter((c) => !ids.has(c.id)), ...registered]
}

/** Run the checks concurrently; a check that throws becomes a warning, never a crash. */
export async function runHostChecks(options: HostCheckOptions): Promise<HostReport> {
  const started = Date.now()
  const purpose = options.purpose ?? 'doctor'
  const ctx = {
    config: options.config,
    purpose,
    cheap: purpose !== 'doctor',
    paths: options.paths ?? [],
    prefixPath: options.prefixPath,
    bootstrap: options.bootstrap ?? true,
    signal: options.signal,
  }
  const checks = allHostChecks().filter((c) => (purpose === 'doctor' || c.preflight?.includes(purpose)) && (!options.only || options.only.includes(c.id)))
  const results = await Promise.all(
    checks.map(async (check): Promise<CheckResult> => {
      try {
        return {id: check.id, title: check.title, ...(await check.run(ctx))}
      } catch (error) {
        log.debug(`host check ${check.id} failed: ${error instanceof Error ? error.stack : String(error)}`)
        return {id: check.id, title: check.title, status: 'warn', message: `could not check: ${errorMessage(error)}`}
      }
    }),
  )
  return {ok: results.every((c) => c.status !== 'fail'), checks: results, durationMs: Date.now() - started}
}

/** The error a failed check becomes before init/start: the doctor's line, then its fix. */
export function hostCheckError(result: CheckResult): LagoError {
  return new LagoError(result.code ?? 'HOST', checkText(result), {
    hint: result.fix ? fixText(result.fix) : undefined,
    detail: {check: result.id, fix: result.fix, ...result.detail},
  })
}

/**
 * The cheap subset of the doctor's checks that `purpose` needs; throws the first blocking
 * failure as the doctor would print it. Warnings go to the log.
 */
export async function preflight(options: HostCheckOptions & {purpose: Exclude<CheckPurpose, 'doctor'>}): Promise<void> {
  const report = await runHostChecks(options)
  for (const warning of report.checks.filter((c) => c.status === 'warn')) log.debug(`preflight: ${checkText(warning)}`)
  const failed = report.checks.find((c) => c.status === 'fail')
  if (failed) throw hostCheckError(failed)
}
