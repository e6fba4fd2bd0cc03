import {Args, Flags} from '@oclif/core'
import {LagoCommand} from '../base-command.js'
import {splitAfterFirstArg, valueFlagSpellings} from '../compat/shell-words.js'

export default class Shell extends LagoCommand {
  static summary = 'Open a shell on a VM, run a command or a local script on it; exits with the remote exit code.'
  static description =
    'Nothing after VM is read as an option (as in the original Lago). No words: an interactive shell (stdin runs as a script when it is not a terminal). One word naming a local file: that script, run on the VM. Otherwise a leading -c is dropped and the words, joined with spaces, are the command.'
  static usage = 'shell VM [WORDS...] [-p PREFIX] [-P NAME] [--log-level LEVEL]'
  static enableJsonFlag = false
  static strict = false
  static examples = ['<%= config.bin %> shell vm0', '<%= config.bin %> shell vm0 uname -a', '<%= config.bin %> shell vm0 -c "uname -a"', '<%= config.bin %> shell vm0 ./setup.sh']
  static args = {
    vm: Args.string({description: 'VM name (or the end of one).', required: true}),
  }
  static flags = {
    command: Flags.string({char: 'c', summary: 'Command to run on the VM (before VM; after it, -c is optional).'}),
  }

  async run() {
    const {head, words} = splitAfterFirstArg(this.argv, valueFlagSpellings({...Shell.baseFlags, ...Shell.flags}))
    this.argv = head
    const {args, flags} = await this.parseLago(Shell)
    const prefix = await this.openPrefix(flags)
    const {runShell} = await import('../shell-run.js')
    const code = await runShell(prefix, args.vm, words, flags.command, this.abort.signal)
    if (code !== 0) this.exit(code)
  }
}
