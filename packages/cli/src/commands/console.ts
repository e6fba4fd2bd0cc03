import {Args} from '@oclif/core'
import {LagoCommand} from '../base-command.js'

export default class Console extends LagoCommand {
  static summary = "Attach to a VM's serial console (virsh console; leave with Ctrl-]). Its log is in .lago/logs/VM.console.log."
  static enableJsonFlag = false
  static args = {vm: Args.string({required: true, description: 'VM name.'})}

  async run() {
    const {args, flags} = await this.parseLago(Console)
    const prefix = await this.openPrefix(flags)
    prefix.requireInitialized()
    const vm = prefix.vm(args.vm)
    await prefix.requireRunning(vm)
    const code = await prefix.provider.attachConsole(vm.libvirtName)
    if (code !== 0) this.exit(code)
  }
}
