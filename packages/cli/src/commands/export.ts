import {Flags} from '@oclif/core'
import {LagoCommand} from '../base-command.js'

export default class Export extends LagoCommand {
  static changesPrefix = true
  static summary = "Export the (stopped) VMs' disks and an init file that recreates the environment from them."
  static description =
    'Without --standalone each disk becomes one overlay on a copy of its template (OUTPUT/templates/); with --standalone every disk is flattened into a self-contained image. Recreate the environment with "lago init NEW_PREFIX OUTPUT/LagoInitFile".'
  static examples = ['<%= config.bin %> shutdown && <%= config.bin %> export --output exported --standalone']
  static flags = {
    output: Flags.string({char: 'o', aliases: ['dst-dir'], summary: 'Directory to create (must not exist).'}),
    standalone: Flags.boolean({char: 's', summary: 'Flatten the disks: no backing files, no template copies.'}),
    vm: Flags.string({char: 'n', multiple: true, summary: 'Only this VM (repeatable).'}),
    'init-file-name': Flags.string({summary: 'Name of the init file written into OUTPUT.', default: 'LagoInitFile'}),
    'init-file-format': Flags.option({options: ['yaml', 'json'] as const, default: 'yaml' as const, summary: 'Format of that init file.'})(),
    'collect-only': Flags.boolean({summary: 'Only list the disks that would be exported (nothing is written).'}),
  }

  async run() {
    const {flags} = await this.parseLago(Export)
    const prefix = await this.openPrefix(flags)
    if (flags['collect-only']) return this.listDisks(prefix, flags.vm)
    if (!flags.output) throw new (await import('@lago/core')).LagoError('USAGE', 'export needs --output DIR (the directory to create).', {hint: 'e.g. lago export --output exported --standalone'})
    const {planExport} = await import('@lago/core')
    const plan = await planExport(prefix, {output: flags.output, standalone: flags.standalone, vms: flags.vm, initFileName: flags['init-file-name'], initFileFormat: flags['init-file-format']})
    await this.withRollback(() => this.runTasks(plan.tasks), plan.rollback)
    if (!this.jsonEnabled()) this.log(`Exported ${plan.result.disks.length} disk(s) to ${plan.result.output}. Recreate with: lago init NEW_PREFIX ${plan.result.initFile}`)
    return plan.result
  }

  private listDisks(prefix: import('@lago/core').Prefix, names: string[] | undefined) {
    const vms = names && names.length > 0 ? names.map((n) => prefix.vm(n)) : prefix.state.vms
    // A remote hypervisor's disks are named as HOST:PATH there.
    const where = (file: string) => {
      const remote = prefix.provider.remoteHost === undefined ? undefined : prefix.provider.hostPath?.(file)
      return remote === undefined ? file : `${prefix.provider.remoteHost}:${remote}`
    }
    const disks = vms.flatMap((vm) => vm.disks.map((d) => where(prefix.paths.resolve(d.path))))
    if (!this.jsonEnabled()) for (const disk of disks) this.log(disk)
    return {disks}
  }
}
