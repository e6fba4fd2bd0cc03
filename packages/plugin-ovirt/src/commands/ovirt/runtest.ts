import {Args, Flags} from '@oclif/core'
import {LagoCommand} from '@lago/cli'

export default class Runtest extends LagoCommand {
  static summary = 'Run test scenarios in order against the prefix (.py with pytest, .js/.ts with mocha and the SDK).'
  static description = `Scenarios get LAGO_PREFIX (= LAGO_PREFIX_PATH), LAGO_SSH_KEY and LAGO_STATUS_FILE in their
environment (see docs/ovirt.md). JUnit XML goes to PREFIX/<file>.junit.xml (or --junit DIR, or
--junitxml-file PATH). The first failing scenario stops the run, its artifacts are collected into
PREFIX/test_logs/<scenario>-<time>/, and the command exits 1.`

  static strict = false
  static collectsOnFailure = true
  static args = {files: Args.string({description: 'Scenario files, run in the order given.', required: true})}
  static flags = {
    ...LagoCommand.collectFlags,
    junit: Flags.string({summary: 'Directory for the JUnit XML files (default: the prefix).'}),
    'junitxml-file': Flags.string({summary: 'JUnit XML file of the (single) scenario; a directory keeps the default name.'}),
  }

  async run() {
    const {argv, flags} = await this.parseLago(Runtest)
    const prefix = await this.openPrefix(flags)
    const [{runScenarios}, {collectArtifacts}, {LagoError}] = await Promise.all([import('../../lib/runtest/runtest.js'), import('../../lib/collect.js'), import('@lago/core')])
    const results = await runScenarios(prefix, argv, {
      junitDir: flags.junit,
      junitFile: flags['junitxml-file'],
      stream: !this.jsonEnabled(),
      signal: this.abort.signal,
      collect: (dir) => collectArtifacts(prefix, dir, {signal: this.abort.signal}),
    })
    const failed = results.find((r) => r.failed)
    if (!this.jsonEnabled()) {
      for (const r of results)
        this.log(
          `${r.failed ? '✘' : '✔'} ${r.file}: ${r.tests.filter((t) => t.status === 'passed').length} passed, ${r.tests.filter((t) => t.status === 'failed').length} failed, ${r.tests.filter((t) => t.status === 'skipped').length} skipped (JUnit: ${r.junit})`,
        )
    }
    if (failed) {
      const names = failed.tests.filter((t) => t.status === 'failed').map((t) => `${t.name}: ${t.message ?? ''}`)
      throw new LagoError('TESTS', `Some tests failed in ${failed.file}${names.length > 0 ? `:\n  ${names.join('\n  ')}` : ` (exit ${failed.exitCode})`}`, {
        hint: `Artifacts collected into ${failed.logs}; JUnit XML: ${failed.junit}.`,
        detail: {results},
        userError: false,
      })
    }
    return {results}
  }
}
