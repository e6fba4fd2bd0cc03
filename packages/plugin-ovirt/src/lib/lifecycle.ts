import {execCapture, shellCommand, type Prefix, type Task} from '@lago/core'
import {servicesOf, waitForServices} from './services.js'

/** `lago ovirt start`: core's start, then wait for each VM's role services. */
export async function ovirtStartTasks(prefix: Prefix, names: string[], options: {force?: boolean; servicesTimeout: number}): Promise<{tasks: Task[]; rollback: () => Promise<void>}> {
  const {tasks, rollback} = await prefix.startTasks(names, {force: options.force})
  const vms = (names.length > 0 ? names.map((n) => prefix.vm(n)) : prefix.state.vms).map((vm) => ({vm, services: servicesOf(vm)})).filter((v) => v.services.length > 0)
  if (vms.length > 0) {
    tasks.push({
      title: 'Wait for the oVirt services',
      concurrent: true,
      subtasks: vms.map(({vm, services}) => ({
        title: `${vm.name}: ${services.join(', ')}`,
        run: (ctx) => waitForServices(prefix, vm, services, {timeoutSeconds: options.servicesTimeout, signal: ctx.signal, report: ctx.report}),
      })),
    })
  }
  return {tasks, rollback}
}

/** `lago ovirt stop`: stop the role services (systemd guests) so they shut down cleanly, then power the VMs off gracefully. */
export async function ovirtStop(prefix: Prefix, names: string[], signal?: AbortSignal) {
  const runtime = await prefix.provider.runtime()
  const vms = (names.length > 0 ? names.map((n) => prefix.vm(n)) : prefix.state.vms).filter((vm) => runtime.vms.get(vm.libvirtName) === 'running')
  await Promise.all(
    vms.map(async (vm) => {
      const services = servicesOf(vm)
      if (services.length === 0) return
      await prefix.withGuest(vm.name, signal, (client) => execCapture(client, `if command -v systemctl >/dev/null 2>&1; then systemctl stop ${shellCommand(services)}; fi`))
    }),
  )
  return prefix.shutdown(
    vms.map((vm) => vm.name),
    {signal},
  )
}
