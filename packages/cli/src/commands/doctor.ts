import {LagoCommand} from '../base-command.js'

export default class Doctor extends LagoCommand {
  static summary = 'Check that this host can run Lago environments, and print the fix for each problem.'
  static description =
    'One line per check: ✔ fine, ! works but worse (e.g. no KVM: TCG), ✘ blocks running an environment, each problem with the command that fixes it. ' +
    'Exits 0 when nothing blocks, 2 otherwise. Plugins add checks of their own. With --prefix-path (or inside a prefix) it checks that prefix too.'

  static examples = ['<%= config.bin %> doctor', '<%= config.bin %> doctor --prefix-path my-env --json']

  async run() {
    const {flags} = await this.parseLago(Doctor)
    const core = await import('@lago/core')
    const config = await this.loadConfig()
    const prefixPath = await this.prefixIfAny(flags['prefix-path'])
    const report = await core.runHostChecks({config, prefixPath, signal: this.abort.signal})
    if (!this.jsonEnabled()) {
      for (const check of report.checks) this.log(core.formatCheckLine(check))
      this.log(`\n${summary(report.checks.map((c) => c.status))} (${(report.durationMs / 1000).toFixed(1)} s)`)
    }
    if (!report.ok) process.exitCode = 2
    return report
  }

  /** --prefix-path (which may not exist yet: where a prefix will go), else the prefix around cwd, else none. */
  private async prefixIfAny(given: string | undefined): Promise<string | undefined> {
    const path = await import('node:path')
    if (given) return path.resolve(given)
    const {findPrefix} = await import('@lago/core')
    return findPrefix(process.cwd()).then(
      (paths) => paths.root,
      () => undefined,
    )
  }
}

function summary(statuses: string[]): string {
  const fails = statuses.filter((s) => s === 'fail').length
  const warns = statuses.filter((s) => s === 'warn').length
  const warnings = `${warns} warning${warns === 1 ? '' : 's'} (!)`
  return fails > 0 ? `${fails} problem${fails === 1 ? '' : 's'} (✘) block${fails === 1 ? 's' : ''} running environments; ${warnings}` : `Nothing blocks running environments; ${warnings}`
}
