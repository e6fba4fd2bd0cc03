import {Args, Flags} from '@oclif/core'
import {LagoCommand} from '../base-command.js'
import {repoFlags, storeFlags} from '../template-flags.js'

export default class Init extends LagoCommand {
  static summary = 'Create an environment (prefix) from an init file: disks, keys, subnets, seeds.'
  static description = 'Nothing is started: run "lago start" inside the prefix afterwards. A failed or interrupted init removes what it made.'
  static examples = [
    '<%= config.bin %> init my-env LagoInitFile --template-repo-path repo.json',
    '<%= config.bin %> init my-env env.yaml --template-repo-path https://example.org/repo.metadata --template-store ~/lago-store',
    '<%= config.bin %> init my-env LagoInitFile --template-repo-name ovirt',
  ]

  static args = {
    prefix: Args.string({description: 'Directory to create for the environment (must not exist).', required: true}),
    initFile: Args.string({description: 'Init file, YAML or JSON.', default: 'LagoInitFile'}),
  }

  static flags = {
    ...repoFlags,
    ...storeFlags,
    'skip-bootstrap': Flags.boolean({summary: 'Do not write cloud-init seeds (templates that already carry the keys).'}),
  }

  async run() {
    const {args, flags} = await this.parseLago(Init)
    const {planInit} = await import('@lago/core')
    const config = await this.loadConfig()
    const plan = await planInit({
      prefixPath: args.prefix,
      initFile: args.initFile,
      config,
      templateRepo: flags['template-repo-path'],
      templateRepoName: flags['template-repo-name'],
      templateRepos: flags['template-repos'],
      templateStore: flags['template-store'],
      skipBootstrap: flags['skip-bootstrap'],
    })
    await this.withRollback(() => this.runTasks(plan.tasks), plan.rollback)
    if (!this.jsonEnabled()) this.log(`Initialized ${plan.paths.root}: cd there and run "${this.config.bin} start".`)
    return {prefix: plan.paths.root, vms: plan.spec.domains.map((d) => d.name), nets: plan.spec.nets.map((n) => n.name)}
  }
}
