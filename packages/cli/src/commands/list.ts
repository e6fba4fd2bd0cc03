import {Args} from '@oclif/core'
import {LagoCommand} from '../base-command.js'
import {formatValue, outFormatFlag} from '../output-format.js'

export default class List extends LagoCommand {
  static summary = 'List the prefixes of a workdir (the current one marked with *).'
  static description = "--out-format default prints the names alone, one per line, and json/yaml a list of them (the original Lago's output)."
  static args = {workdir: Args.string({description: 'Workdir (default: found from the current directory).'})}
  static flags = {'out-format': outFormatFlag}

  async run() {
    const {args, flags} = await this.parseLago(List)
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
}
