import {Args, Flags} from '@oclif/core'
import {LagoCommand} from '../base-command.js'
import {formatValue, outFormatFlag, type OutFormat} from '../output-format.js'

export default class List extends LagoCommand {
  static summary = 'List the prefixes of a workdir (the current one marked with *).'
  static description = "--out-format default prints the names alone, one per line, and json/yaml a list of them (the original Lago's output)."
  static args = {workdir: Args.string({description: 'Workdir (default: found from the current directory).'})}
  static flags = {
    'out-format': outFormatFlag,
    hosts: Flags.boolean({summary: 'List the environments on this host and every configured hypervisor ([hypervisors]) instead: host, prefix, VMs running.'}),
  }

  async run() {
    const {args, flags} = await this.parseLago(List)
    if (flags.hosts) return this.listHosts(flags['out-format'])
    const {Workdir} = await import('@lago/core')
    const workdir = await Workdir.find(process.cwd(), args.workdir)
    const [prefixes, current] = await Promise.all([workdir.prefixes(), workdir.current()])
    const format = flags['out-format']
    if (!this.jsonEnabled()) {
      if (format === 'table') for (const name of prefixes) this.log(`${name === current ? '*' : ' '} ${name}`)
      else this.log(await formatValue(prefixes, format))
    }
    return {workdir: workdir.dir, current, prefixes}
  }

  private async listHosts(format: OutFormat) {
    const core = await import('@lago/core')
    const result = await core.listAcrossHosts(await this.loadConfig())
    if (!this.jsonEnabled()) {
      if (format === 'table') {
        const {table} = await import('../status-table.js')
        for (const line of table(
          ['HOST', 'PREFIX', 'VMS RUNNING'],
          result.prefixes.map((p) => [p.host, p.prefix, `${p.running}/${p.vms}`]),
        ))
          this.log(line)
      } else this.log(await formatValue(result.prefixes, format))
      for (const {host, error} of result.unreachable) this.warn(`${host}: ${error}`)
    }
    return result
  }
}
