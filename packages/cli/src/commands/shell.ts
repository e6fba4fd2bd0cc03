import {Args, Flags} from '@oclif/core'
import {LagoCommand} from '../base-command.js'

async function readScript(file: string): Promise<string> {
  const {readFile} = await import('node:fs/promises')
  const {LagoError} = await import('@lago/core')
  return readFile(file, 'utf8').catch(() => {
    throw new LagoError('USAGE', `Script ${file} cannot be read.`, {hint: 'To run a command rather than a local script, use -c "COMMAND".'})
  })
}

export default class Shell extends LagoCommand {
  static summary = 'Open a shell on a VM, run a command (-c) or a local script on it; exits with the remote exit code.'
  static enableJsonFlag = false
  static strict = false
  static examples = ['<%= config.bin %> shell vm0', '<%= config.bin %> shell vm0 -c "uname -a"', '<%= config.bin %> shell vm0 ./setup.sh']
  static args = {
    vm: Args.string({description: 'VM name.', required: true}),
    script: Args.string({description: 'A local script to run on the VM (fed to its shell on stdin).'}),
  }
  static flags = {
    command: Flags.string({char: 'c', summary: 'Command to run on the VM instead of an interactive shell.'}),
  }

  async run() {
    const {args, argv, flags} = await this.parseLago(Shell)
    const prefix = await this.openPrefix(flags)
    const core = await import('@lago/core')
    const script = args.script === undefined ? undefined : await readScript(args.script)
    const output = {stdout: process.stdout, stderr: process.stderr}
    const code = await prefix.withGuest(args.vm, this.abort.signal, (client) => {
      if (flags.command !== undefined) {
        const command = [flags.command, ...argv.slice(1)].join(' ')
        return core.execOn(client, command, {...output, stdin: process.stdin.isTTY ? '' : process.stdin})
      }
      if (script !== undefined) return core.execOn(client, 'sh -s', {...output, stdin: script})
      if (process.stdin.isTTY) return core.interactiveShell(client, {stdin: process.stdin, stdout: process.stdout})
      return core.execOn(client, 'sh -s', {...output, stdin: process.stdin})
    })
    if (code !== 0) this.exit(code)
  }
}
