import {Args} from '@oclif/core'
import {LagoCommand} from '../base-command.js'

export default class SetCurrent extends LagoCommand {
  static summary = 'Make NAME the prefix commands act on in this workdir.'
  static args = {name: Args.string({required: true, description: 'Prefix name.'})}

  async run() {
    const {args, flags} = await this.parseLago(SetCurrent)
    const {Workdir} = await import('@lago/core')
    const workdir = await Workdir.find(process.cwd(), flags['prefix-path'])
    await workdir.setCurrent(args.name)
    return {workdir: workdir.dir, current: args.name}
  }
}
