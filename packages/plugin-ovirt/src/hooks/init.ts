import type {Hook} from '@oclif/core'

/**
 * oclif runs this before every command: register the plugin's host checks with core
 * (core never imports the plugin). The import is deferred to the commands that run
 * host checks, so other commands start as fast as before.
 */
const hook: Hook<'init'> = async function (options) {
  if (!HOST_CHECK_COMMANDS.has(options.id ?? '')) return
  const {registerOvirtHostChecks} = await import('../lib/host-checks.js')
  registerOvirtHostChecks()
}

/** Commands that run host checks: the doctor, and init/start (their preflight). */
const HOST_CHECK_COMMANDS = new Set(['doctor', 'init', 'start'])

export default hook
