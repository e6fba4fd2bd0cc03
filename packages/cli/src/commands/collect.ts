import {Flags} from '@oclif/core'
import {LagoCommand} from '../base-command.js'

export default class Collect extends LagoCommand {
  static summary = "Copy each VM's artifacts (files and directories) into OUTPUT/<vm>/<path with / replaced by _>."
  static description =
    'One tar stream per running VM over SSH; a VM that is down is read from its disk with libguestfs when installed. A missing path is reported and skipped (an error with --strict). An existing OUTPUT directory is renamed OUTPUT.<date_time> first, never overwritten.'
  static examples = ['<%= config.bin %> collect --output test_logs/post-001']
  static flags = {
    output: Flags.string({char: 'o', required: true, summary: 'Directory to collect into.'}),
    vm: Flags.string({char: 'n', multiple: true, summary: 'Only this VM (repeatable).'}),
    strict: Flags.boolean({summary: 'Fail when an artifact path does not exist on its VM.', aliases: ['no-skip']}),
  }

  async run() {
    const {flags} = await this.parseLago(Collect)
    const prefix = await this.openPrefix(flags)
    const {planCollect} = await import('@lago/core')
    const plan = await planCollect(prefix, {output: flags.output, vms: flags.vm, strict: flags.strict})
    await this.runTasks(plan.tasks)
    const {result} = plan
    if (!this.jsonEnabled()) {
      if (result.rotatedTo) this.log(`The previous ${result.output} was moved to ${result.rotatedTo}.`)
      for (const vm of result.vms) {
        const how = vm.method ? ` (${vm.method})` : ''
        this.log(`${vm.vm}: ${vm.collected.length} collected${how}${vm.missing.length > 0 ? `, missing: ${vm.missing.join(', ')}` : ''}`)
      }
    }
    return result
  }
}
