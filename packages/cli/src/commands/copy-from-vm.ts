import {Args} from '@oclif/core'
import {LagoCommand} from '../base-command.js'

export default class CopyFromVm extends LagoCommand {
  static summary = 'Copy a file or directory from a VM here (SFTP; into LOCAL when it is a directory).'
  static args = {
    vm: Args.string({required: true, description: 'VM name.'}),
    remote: Args.string({required: true, description: 'Path on the VM.'}),
    local: Args.string({required: true, description: 'Local destination.'}),
  }

  async run() {
    const {args, flags} = await this.parseLago(CopyFromVm)
    const prefix = await this.openPrefix(flags)
    return prefix.withGuest(args.vm, this.abort.signal, async (client) => (await import('@lago/core')).copyFromGuest(client, args.remote, args.local))
  }
}
