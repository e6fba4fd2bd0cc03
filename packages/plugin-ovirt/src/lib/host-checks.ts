import {execFile} from 'node:child_process'
import {createServer} from 'node:net'
import path from 'node:path'
// The host-check entry only: the hook registering these runs before init, start and doctor.
import {diskSpaceCheck, registerHostCheck, toolsCheck, type CheckOutcome, type HostCheck} from '@lago/core/host'

/** The port "lago ovirt serve" publishes the internal repository on (as the original plugin did). */
export const OVIRT_REPO_PORT = 8585
/** oVirt system tests need this much under the template store (the reference's 36 GB). */
export const OVIRT_STORE_NEED = 36 * 1000 ** 3

/** dnf reposync, createrepo_c and rpm build the internal repository. Not needed for plain environments: warnings. */
export const ovirtToolsCheck = toolsCheck({
  id: 'ovirt-tools',
  title: 'oVirt tools',
  severity: 'warn',
  tools: [
    {anyOf: ['dnf'], name: 'dnf reposync', packages: {debian: ['dnf', 'dnf-plugins-core'], fedora: ['dnf-plugins-core']}, works: (dnf) => succeeds(dnf, ['reposync', '--help'])},
    {anyOf: ['createrepo_c'], packages: {debian: ['createrepo-c'], fedora: ['createrepo_c']}},
    {anyOf: ['rpmbuild'], name: 'rpm and rpmbuild', packages: {debian: ['rpm'], fedora: ['rpm-build']}},
  ],
})

export const ovirtPortCheck: HostCheck = {
  id: 'ovirt-port',
  title: 'oVirt repo port',
  async run() {
    return portOutcome(OVIRT_REPO_PORT, await portFree(OVIRT_REPO_PORT))
  },
}

export function portOutcome(port: number, free: boolean): CheckOutcome {
  if (free) return {status: 'ok', message: `port ${port} is free for "lago ovirt serve"`}
  return {
    status: 'warn',
    message: `port ${port} is taken: "lago ovirt serve" cannot publish the internal repository`,
    fix: `ss -ltnp 'sport = :${port}' names the process that listens there: stop it`,
  }
}

export const ovirtDiskSpaceCheck = diskSpaceCheck({
  id: 'ovirt-disk-space',
  title: 'oVirt free space',
  severity: 'warn',
  needs: (ctx) => [{label: 'template store', path: path.resolve(ctx.config.lago.template_store), need: OVIRT_STORE_NEED, setting: 'template_store under [lago], or LAGO_TEMPLATE_STORE'}],
})

/** Called from the plugin's oclif init hook; SDK users may call it themselves. Registering twice is harmless. */
export function registerOvirtHostChecks(): void {
  for (const check of [ovirtToolsCheck, ovirtPortCheck, ovirtDiskSpaceCheck]) registerHostCheck(check)
}

function succeeds(file: string, args: string[]): Promise<boolean> {
  return new Promise((resolve) => {
    execFile(file, args, {timeout: 20_000}, (error) => resolve(!error))
  })
}

/** Can something bind the port on all addresses? (Nothing is sent anywhere.) */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen({port, host: '0.0.0.0', exclusive: true}, () => server.close(() => resolve(true)))
  })
}
