import {readdir} from 'node:fs/promises'
import {log, planDeploy, type Prefix, type Task, type VmDeployResult} from '@lago/core'
import {writeGuestRepoTasks} from './guest-repo.js'
import {startRepoServer, type RepoServer} from './serve/repo-server.js'

export interface OvirtDeployPlan {
  tasks: Task[]
  results: VmDeployResult[]
  server: RepoServer
}

/**
 * `lago ovirt deploy`: serve the internal repository on the management gateway, write a
 * repo file into each guest pointing at it, then core's deploy (the scripts also get
 * OVIRT_REPO_URL). The caller runs the tasks and then closes `server`.
 */
export async function planOvirtDeploy(prefix: Prefix, options: {vms?: string[]; port?: number; signal?: AbortSignal}): Promise<OvirtDeployPlan> {
  const names = options.vms && options.vms.length > 0 ? options.vms.map((n) => prefix.vm(n).name) : prefix.state.vms.map((vm) => vm.name)
  const server = await startRepoServer(prefix, {port: options.port})
  if ((await readdir(server.root)).length === 0) log.warn(`${server.root} is empty: run "lago ovirt reposetup" first if the deploy scripts install packages`)
  try {
    const deploy = await planDeploy(prefix, {vms: names, env: {OVIRT_REPO_URL: server.url}})
    const tasks = [await writeGuestRepoTasks(prefix, server.url, names, options.signal), ...deploy.tasks]
    return {tasks, results: deploy.results, server}
  } catch (error) {
    await server.close()
    throw error
  }
}
