import {LagoError, execCapture, type Prefix, type Task} from '@lago/core'
import {vmDistros} from './reposetup/distros.js'

/** Where each guest finds the internal repository (yum/dnf read it; the tiny test guests' scripts too). */
export const GUEST_REPO_FILE = '/etc/yum.repos.d/lago-internal.repo'

/** The .repo file pointing a guest of `distro` at the served internal repository. */
export function guestRepoFile(baseUrl: string, distro: string): string {
  return [`[lago-internal-${distro}]`, 'name=Lago internal repository (lago ovirt reposetup)', `baseurl=${baseUrl}${distro}/`, 'enabled=1', 'gpgcheck=0', 'skip_if_unavailable=0', ''].join('\n')
}

/** Tasks writing GUEST_REPO_FILE into every running VM, for its distro. */
export async function writeGuestRepoTasks(prefix: Prefix, baseUrl: string, vmNames: string[], signal?: AbortSignal): Promise<Task> {
  const distros = await vmDistros(prefix)
  return {
    title: `Point the guests at ${baseUrl}`,
    concurrent: true,
    subtasks: vmNames.map((name) => ({
      title: name,
      run: async () => {
        const distro = distros.get(name) ?? 'default'
        const result = await prefix.withGuest(name, signal, (client) => execCapture(client, `mkdir -p /etc/yum.repos.d && cat > ${GUEST_REPO_FILE}`, guestRepoFile(baseUrl, distro)))
        if (result.exitCode !== 0) throw new LagoError('VM', `Could not write ${GUEST_REPO_FILE} on ${name}: ${result.stderr.trim()}`, {userError: false})
      },
    })),
  }
}
