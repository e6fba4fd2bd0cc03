import {LagoCommand} from '@lago/cli'

export default class Ovirt extends LagoCommand {
  static summary = 'oVirt system tests on Lago environments (the lago-ovirt plugin).'

  async run() {
    await this.parseLago(Ovirt)
    // The verbs and their summaries come from the commands themselves (the oclif manifest).
    const verbs = this.config.commands
      .filter((command) => command.id.startsWith('ovirt:'))
      .map((command) => ({name: command.id.slice('ovirt:'.length), summary: command.summary ?? ''}))
      .sort((a, b) => a.name.localeCompare(b.name))
    if (!this.jsonEnabled()) {
      this.log('lago ovirt: oVirt system tests on Lago environments.\n')
      for (const verb of verbs) this.log(`  ${verb.name.padEnd(14)}${verb.summary}`)
    }
    return {verbs}
  }
}
