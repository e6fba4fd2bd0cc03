import {globalRegistry} from '../util/global-registry.js'
import type {HostCheck} from './check.js'

/**
 * The host checks `lago doctor` runs, and whose cheap subset `init` and `start` run first.
 * Kept on globalThis so a plugin that loads a second copy of @lago/core still registers
 * into the one the CLI reads.
 */
const checks = globalRegistry<HostCheck>('lago.hostChecks', (check) => check.id)

/**
 * Add a check (plugins call this from an oclif `init` hook). A check registered again
 * under the same id replaces the earlier one, so registering twice is harmless.
 */
export function registerHostCheck(check: HostCheck): void {
  checks.add(check)
}

export function unregisterHostCheck(id: string): void {
  checks.remove(id)
}

/** Every registered check, built-in ones first, in registration order. */
export function registeredHostChecks(): HostCheck[] {
  return checks.all()
}
