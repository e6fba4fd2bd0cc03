import {LagoCommand} from '../base-command.js'

export default class Cleanup extends LagoCommand {
  static summary = 'Stop everything of the prefix and release its subnets (the directory stays). Safe to repeat, and works whatever state the prefix is in.'
  static changesPrefix = true

  async run() {
    const {flags} = await this.parseLago(Cleanup)
    const core = await import('@lago/core')
    const config = await this.loadConfig()
    const paths = await core.findPrefix(process.cwd(), flags['prefix-path'], flags['prefix-name'])
    if (!(await this.takePrefix(paths, config, flags))) return {prefix: paths.root, releasedSubnets: []}
    const result = await core.cleanupPrefix(paths, config, this.change?.run)
    if (!this.jsonEnabled()) this.log(`Cleaned up ${paths.root}${result.releasedSubnets.length > 0 ? `; released ${result.releasedSubnets.map((s) => `${s}/24`).join(', ')}` : ''}.`)
    return {prefix: paths.root, ...result}
  }
}
