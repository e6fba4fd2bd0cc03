import {Flags} from '@oclif/core'
import {LagoCommand} from '@lago/cli'

export default class EngineSetup extends LagoCommand {
  static changesPrefix = true
  static summary = 'Run engine-setup on the engine VM (vm-type ovirt-engine) with an answer file.'
  static flags = {
    config: Flags.string({summary: 'Answer file, copied to the engine VM and passed as --config-append.'}),
  }

  async run() {
    const {flags} = await this.parseLago(EngineSetup)
    const prefix = await this.openPrefix(flags)
    const {runEngineSetup} = await import('../../lib/engine-setup.js')
    const quiet = this.jsonEnabled()
    const {PassThrough} = await import('node:stream')
    const sink = () => (quiet ? new PassThrough().resume() : undefined)
    return runEngineSetup(prefix, flags.config, {stdout: sink() ?? process.stdout, stderr: sink() ?? process.stderr}, this.abort.signal)
  }
}
