import {LagoCommand} from '../base-command.js'

export default class Cleanup extends LagoCommand {
  static summary = 'Stop everything of the prefix and release its subnets (the directory stays). Safe to repeat.'

  async run() {
    const {flags} = await this.parseLago(Cleanup)
    const prefix = await this.openPrefix(flags)
    const result = await prefix.cleanup()
    if (!this.jsonEnabled()) this.log(`Cleaned up ${prefix.paths.root}${result.releasedSubnets.length > 0 ? `; released ${result.releasedSubnets.map((s) => `${s}/24`).join(', ')}` : ''}.`)
    return {prefix: prefix.paths.root, ...result}
  }
}
