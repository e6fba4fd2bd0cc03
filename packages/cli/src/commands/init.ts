import {Args, Flags} from '@oclif/core'
import {LagoCommand} from '../base-command.js'
import {downloadFlags, repoFlags, storeFlags} from '../template-flags.js'

export default class Init extends LagoCommand {
  static summary = 'Create an environment (prefix) from an init file: disks, keys, subnets, seeds.'
  static description = `Forms:
  lago init                      ./LagoInitFile into the workdir ./.lago (prefix "default")
  lago init FILE                 FILE into the workdir ./.lago
  lago init DIR FILE             DIR is the prefix (then: cd DIR; lago start)
  lago init DIR FILE -P NAME     DIR is a workdir; adds prefix NAME to it
  lago init DIR --from NAME[:V]  DIR is an independent copy of golden environment NAME (see "lago freeze")
Nothing is started: run "lago start" afterwards. A failed or interrupted init removes what it made.`
  static examples = [
    '<%= config.bin %> init my-env LagoInitFile --template-repo-path repo.json',
    '<%= config.bin %> init my-env env.yaml --template-repo-path https://example.org/repo.metadata --template-store ~/lago-store',
    '<%= config.bin %> init my-env LagoInitFile --template-repo-name ovirt',
    '<%= config.bin %> init --prefix-name second --set-current',
    '<%= config.bin %> init copy1 --from ovirt-4.5:2',
  ]
  static strict = false

  static args = {
    dir: Args.string({description: 'Prefix directory to create (or the init file, when it is the only argument).'}),
    initFile: Args.string({description: 'Init file, YAML or JSON (default ./LagoInitFile).'}),
  }

  static actsOnPrefix = false
  static flags = {
    ...repoFlags,
    ...storeFlags,
    ...downloadFlags,
    'skip-bootstrap': Flags.boolean({summary: 'Do not write cloud-init seeds (templates that already carry the keys).'}),
    from: Flags.string({summary: 'Make the prefix a copy of this golden environment (NAME or NAME:VERSION) instead of reading an init file.'}),
    'set-current': Flags.boolean({summary: 'Point the workdir\'s "current" at the new prefix.'}),
    host: Flags.string({
      summary: 'Hypervisor to run the environment on: a name from [hypervisors] in lago.conf, a qemu+ssh:// URI, or "local".',
      description: 'Default: among the configured [hypervisors], the one with the most free memory that fits the environment; without any, libvirt.uri.',
    }),
  }

  async run() {
    const {argv, flags} = await this.parseLago(Init)
    const core = await import('@lago/core')
    if (flags.from && argv.length > 1) {
      throw new core.LagoError('USAGE', `Give either an init file (${argv[1]}) or --from ${flags.from}, not both: a copy takes its VMs and nets from the golden environment.`, {
        hint: `lago init ${argv[0]} --from ${flags.from}`,
      })
    }
    const target = core.initTarget(process.cwd(), argv, flags['prefix-name'], {fromGolden: flags.from !== undefined})
    const config = await this.loadConfig()
    this.eventsAbout(target.prefixPath)
    this.leftovers = () =>
      `Nothing is left behind while init is still planning. After that, ${target.prefixPath} may be left half made: remove it with "rm -rf ${target.prefixPath}" (its subnet leases and template registrations lapse once it is gone).`
    const plan = await core.planInit({
      signal: this.abort.signal,
      prefixPath: target.prefixPath,
      initFile: target.initFile,
      config,
      templateRepo: flags['template-repo-path'],
      templateRepoName: flags['template-repo-name'],
      templateRepos: flags['template-repos'],
      templateStore: flags['template-store'],
      skipBootstrap: flags['skip-bootstrap'],
      host: flags.host,
      allowUnverified: flags['allow-unverified'] || undefined,
      workdirPath: target.workdir?.dir,
      from: flags.from,
    })
    const workdir = target.workdir
    const rollback = async () => {
      await plan.rollback()
      await workdir?.settle().catch(() => undefined)
    }
    await this.withRollback(async () => {
      await this.runTasks(plan.tasks)
      if (workdir && (flags['set-current'] || !(await workdir.current()))) await workdir.setCurrent(target.prefixName!)
    }, rollback)
    await this.recordEventsIn(plan.paths)
    if (!this.jsonEnabled()) {
      const where = workdir ? `workdir ${workdir.dir} (prefix "${target.prefixName}")` : plan.paths.root
      this.log(`Initialized ${where}. Next: "${this.config.bin} start"${workdir ? '' : ` inside ${plan.paths.root}`}.`)
    }
    return {prefix: plan.paths.root, ...(flags.from ? {golden: flags.from} : {}), workdir: workdir?.dir, vms: plan.spec.domains.map((d) => d.name), nets: plan.spec.nets.map((n) => n.name)}
  }
}
