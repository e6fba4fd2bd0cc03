import {Args, Flags} from '@oclif/core'
import {LagoCommand} from '../base-command.js'

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
    const prefix = await this.openPrefix(flags['prefix-path'])
    prefix.requireInitialized()
    const vm = prefix.vm(args.vm)
    const core = await import('@lago/core')
    await prefix.requireRunning(vm)
    await prefix.waitForVm(vm, this.abort.signal)
    const client = await prefix.ssh(vm)
    let code: number
    try {
      if (flags.command !== undefined) {
        const extra = argv.slice(1)
        code = await core.execOn(client, [flags.command, ...extra].join(' '), {stdout: process.stdout, stderr: process.stderr, stdin: process.stdin.isTTY ? '' : process.stdin})
      } else if (args.script) {
        const {readFile} = await import('node:fs/promises')
        const script = await readFile(args.script, 'utf8').catch(() => {
          throw new core.LagoError('USAGE', `Script ${args.script} cannot be read.`, {hint: 'To run a command rather than a local script, use -c "COMMAND".'})
        })
        code = await core.execOn(client, 'sh -s', {stdout: process.stdout, stderr: process.stderr, stdin: script})
      } else if (process.stdin.isTTY) {
        code = await core.interactiveShell(client, {stdin: process.stdin, stdout: process.stdout})
      } else {
        code = await core.execOn(client, 'sh -s', {stdout: process.stdout, stderr: process.stderr, stdin: process.stdin})
      }
    } finally {
      client.end()
    }
    if (code !== 0) this.exit(code)
  }
}
