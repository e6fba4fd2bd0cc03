import path from 'node:path'
import {Flags} from '@oclif/core'
import {LagoCommand} from '../base-command.js'

export default class Report extends LagoCommand {
  static summary = "Write the environment's lifecycle as JUnit XML and a one-page Markdown summary, for CI systems to attach."
  static description = `Built from the events every verb records in PREFIX/.lago/events.ndjson: a test suite per run of
init, start, deploy, stop, collect and the ovirt verbs; a case per VM started or deployed, per deploy
script and per test scenario (runtest), with durations and the failure messages. The summary links the
logs collected when a verb failed (PREFIX/.lago/failures/<verb>-<time>/). See docs/ci.md.`

  static examples = ['<%= config.bin %> report --output reports/', '<%= config.bin %> report --junit results/lago.xml --markdown results/lago.md']
  static flags = {
    output: Flags.string({char: 'o', summary: 'Directory for lago-junit.xml and lago-summary.md (default: PREFIX/.lago/report).'}),
    junit: Flags.string({summary: 'The JUnit XML file (overrides --output for it).'}),
    markdown: Flags.string({summary: 'The Markdown summary file (overrides --output for it).'}),
  }

  async run() {
    const {flags} = await this.parseLago(Report)
    const prefix = await this.openPrefix(flags)
    const {writeReport} = await import('@lago/core')
    const dir = path.resolve(flags.output ?? path.join(prefix.paths.stateDir, 'report'))
    const files = await writeReport(prefix.paths.root, prefix.paths.events, {
      junit: path.resolve(flags.junit ?? path.join(dir, 'lago-junit.xml')),
      markdown: path.resolve(flags.markdown ?? path.join(dir, 'lago-summary.md')),
    })
    if (!this.jsonEnabled()) {
      this.log(`${files.suites} verb run${files.suites === 1 ? '' : 's'}, ${files.cases} cases, ${files.failed} failed.`)
      this.log(`JUnit XML: ${files.junit}`)
      this.log(`Summary: ${files.markdown}`)
    }
    return files
  }
}
