import {Flags} from '@oclif/core'
import {LagoCommand} from '../base-command.js'

export default class Destroy extends LagoCommand {
  static changesPrefix = true
  static summary = 'Stop the environment, release its subnets and delete its directory (all prefixes of the workdir with --all-prefixes).'
  static flags = {
    yes: Flags.boolean({char: 'y', summary: 'Do not ask for confirmation.'}),
    'all-prefixes': Flags.boolean({summary: 'Destroy every prefix of the workdir.'}),
  }

  async run() {
    const {flags} = await this.parseLago(Destroy)
    const core = await import('@lago/core')
    const config = await this.loadConfig()
    const single = () => core.findPrefix(process.cwd(), flags['prefix-path'], flags['prefix-name'])
    // --all-prefixes on a plain prefix (what "lago init DIR FILE" makes) destroys that prefix:
    // OST's "lago --workdir $PREFIX destroy --yes --all-prefixes".
    const targets = flags['all-prefixes']
      ? await core.Workdir.find(process.cwd(), flags['prefix-path']).then(
          async (workdir) => (await workdir.prefixes()).map((name) => workdir.prefixPaths(name)),
          async (error: unknown) => {
            try {
              return [await single()]
            } catch {
              throw error instanceof Error ? error : new Error(String(error))
            }
          },
        )
      : [await single()]
    if (!flags.yes) {
      if (!process.stdin.isTTY) throw new core.LagoError('USAGE', 'destroy deletes environments: pass --yes to confirm when not on a terminal.')
      const {createInterface} = await import('node:readline/promises')
      const prompt = createInterface({input: process.stdin, output: process.stderr})
      const answer = await prompt.question(`Do you really want to destroy ${targets.map((t) => t.root).join(', ')}? [Yn] `)
      prompt.close()
      if (answer.trim() !== '' && !/^y/i.test(answer.trim())) return {destroyed: []}
    }
    const destroyed: string[] = []
    for (const paths of targets) {
      if (await this.takePrefix(paths, config, flags)) await core.destroyPrefix(paths, config, this.change?.run)
      await this.change?.end('ok')
      this.change = undefined
      destroyed.push(paths.root)
      if (!this.jsonEnabled()) this.log(`Destroyed ${paths.root}`)
    }
    return {destroyed}
  }
}
