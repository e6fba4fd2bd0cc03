import {LagoError, execCapture, shellQuote, vmServices, type Prefix, type VmState} from '@lago/core'

/**
 * The services to wait for on a VM: init-file metadata `ovirt-services` (a list) when set,
 * else its VM type's (ovirt-engine: ovirt-engine; ovirt-host: vdsmd).
 */
export function servicesOf(vm: VmState): string[] {
  const own = vm.metadata['ovirt-services']
  if (own === undefined) return vmServices(vm)
  if (!Array.isArray(own) || own.some((s) => typeof s !== 'string')) {
    throw new LagoError('INIT_FILE', `VM ${vm.name}: metadata "ovirt-services" must be a list of service names, not ${JSON.stringify(own)}.`)
  }
  return own as string[]
}

/** A shell test that a service runs: systemd's view when the guest has systemd, else a process of that name. */
function serviceActiveCommand(service: string): string {
  const name = shellQuote(service)
  return `if command -v systemctl >/dev/null 2>&1; then systemctl is-active --quiet ${name}; else pidof ${name} >/dev/null; fi`
}

/** Wait until every service of `vm` runs, polling every 2 s until `timeoutSeconds`. */
export async function waitForServices(prefix: Prefix, vm: VmState, services: string[], options: {timeoutSeconds: number; signal?: AbortSignal; report?: (text: string) => void}): Promise<void> {
  const deadline = Date.now() + options.timeoutSeconds * 1000
  const pending = new Set(services)
  await prefix.withGuest(vm.name, options.signal, async (client) => {
    for (;;) {
      for (const service of pending) {
        if ((await execCapture(client, serviceActiveCommand(service))).exitCode === 0) pending.delete(service)
      }
      if (pending.size === 0) return
      options.report?.(`waiting for ${[...pending].join(', ')}`)
      if (Date.now() > deadline) {
        throw new LagoError('VM', `VM ${vm.name}: service${pending.size === 1 ? '' : 's'} ${[...pending].join(', ')} not running after ${options.timeoutSeconds} s.`, {
          hint: `Look at it with "lago shell ${vm.name}".`,
          detail: {vm: vm.name, services: [...pending]},
        })
      }
      await new Promise((resolve) => setTimeout(resolve, 2000))
    }
  })
}
