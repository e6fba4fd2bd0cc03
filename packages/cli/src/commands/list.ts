import {Args} from '@oclif/core'
import {LagoCommand} from '../base-command.js'

export default class List extends LagoCommand {
  static summary = 'List the prefixes of a workdir (the current one marked with *).'
  static args = {workdir: Args.string({description: 'Workdir (default: found from the current directory).'})}

  async run() {
    const {args} = await this.parseLago(List)
    const {Workdir} = await import('@lago/core')
    const workdir = await Workdir.find(process.cwd(), args.workdir)
    const [prefixes, current] = await Promise.all([workdir.prefixes(), workdir.current()])
    if (!this.jsonEnabled()) for (const name of prefixes) this.log(`${name === current ? '*' : ' '} ${name}`)
    return {workdir: workdir.dir, current, prefixes}
  }
}
