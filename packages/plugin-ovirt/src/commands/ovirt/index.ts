import {LagoCommand} from '@lago/cli'
import {OVIRT_VERBS} from '../../lib/verbs.js'

export default class Ovirt extends LagoCommand {
  static summary = 'oVirt system tests on Lago environments (the lago-ovirt plugin).'

  async run() {
    await this.parseLago(Ovirt)
    if (!this.jsonEnabled()) {
      this.log('lago ovirt: oVirt system tests on Lago environments.\n')
      for (const verb of OVIRT_VERBS) this.log(`  ${verb.name.padEnd(14)}${verb.summary}`)
    }
    return {verbs: OVIRT_VERBS}
  }
}
