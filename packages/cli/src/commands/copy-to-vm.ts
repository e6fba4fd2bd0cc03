import {Args} from '@oclif/core'
import {LagoCommand} from '../base-command.js'

export default class CopyToVm extends LagoCommand {
  static summary = 'Copy a local file or directory to a VM (SFTP; into REMOTE when it is a directory).'
  static args = {
    vm: Args.string({required: true, description: 'VM name.'}),
    local: Args.string({required: true, description: 'Local file or directory.'}),
    remote: Args.string({required: true, description: 'Path on the VM.'}),
  }

  async run() {
    const {args, flags} = await this.parseLago(CopyToVm)
    const prefix = await this.openPrefix(flags)
    return prefix.withGuest(args.vm, this.abort.signal, async (client) => (await import('@lago/core')).copyToGuest(client, args.local, args.remote))
  }
}
