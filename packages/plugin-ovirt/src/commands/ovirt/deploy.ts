import {Flags} from '@oclif/core'
import {LagoCommand} from '@lago/cli'

export default class OvirtDeploy extends LagoCommand {
  static changesPrefix = true
  static collectsOnFailure = true
  static summary = 'Serve the internal repo, point each guest at it (/etc/yum.repos.d/lago-internal.repo), run the deploy scripts.'
  static description = `As "lago deploy", with the repository of "lago ovirt reposetup" served on the management
network's gateway for the duration (the scripts get its URL as OVIRT_REPO_URL).
In a copy of a golden environment ("lago init --from") it does nothing: the deploy ran before the freeze.`

  static flags = {
    ...LagoCommand.collectFlags,
    vm: Flags.string({char: 'n', multiple: true, summary: 'Only this VM (repeatable).'}),
    port: Flags.integer({summary: 'Port to serve the repository on.', default: 8585, min: 1, max: 65_535}),
  }

  async run() {
    const {flags} = await this.parseLago(OvirtDeploy)
    const prefix = await this.openPrefix(flags)
    const golden = prefix.state.golden
    if (golden) {
      // A copy of a golden environment was provisioned before it was frozen: its deploy is in its disks.
      if (!this.jsonEnabled()) this.log(`This prefix is a copy of golden environment ${golden.name}:${golden.version}: its deploy ran before the freeze; nothing to deploy.`)
      return {golden: `${golden.name}:${golden.version}`, vms: []}
    }
    const {planOvirtDeploy} = await import('../../lib/deploy.js')
    const plan = await planOvirtDeploy(prefix, {vms: flags.vm, port: flags.port, signal: this.abort.signal})
    try {
      await this.runTasks(plan.tasks)
    } finally {
      await plan.server.close()
    }
    if (!this.jsonEnabled()) {
      for (const r of plan.results) this.log(`${r.vm}: ${r.scripts.length} script${r.scripts.length === 1 ? '' : 's'} ran (log: ${r.log})`)
    }
    return {repo: plan.server.url, vms: plan.results}
  }
}
