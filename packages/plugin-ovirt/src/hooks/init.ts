import type {Hook} from '@oclif/core'

/**
 * oclif runs this before every command: register the plugin's host checks and VM types
 * with core (core never imports the plugin). The imports are deferred to the commands that
 * use them, so other commands start as fast as before.
 */
const hook: Hook<'init'> = async function (options) {
  const id = options.id ?? ''
  if (HOST_CHECK_COMMANDS.has(id)) {
    const {registerOvirtHostChecks} = await import('../lib/host-checks.js')
    registerOvirtHostChecks()
  }
  if (VM_TYPE_COMMANDS.has(id) || id.startsWith('ovirt:')) {
    const {registerOvirtVmTypes} = await import('../lib/vm-types.js')
    registerOvirtVmTypes()
  }
}

/**
 * Commands that run this plugin's host checks: only the doctor (none of them is a preflight of
 * init or start; a check given a `preflight` purpose must add those verbs here).
 */
const HOST_CHECK_COMMANDS = new Set(['doctor'])
/** Core commands that read VM types (artifacts to collect, what to deploy). */
const VM_TYPE_COMMANDS = new Set(['collect', 'deploy'])

export default hook
