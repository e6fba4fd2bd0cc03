import {Flags} from '@oclif/core'
import {LagoCommand} from '../base-command.js'

export default class GenerateConfig extends LagoCommand {
  static summary = 'Print the effective configuration as a commented lago.conf (reads back to the same settings).'
  static description =
    "Every setting with its current value and meaning, then one section per verb holding the defaults of its flags (as the original Lago's per-verb sections). Save it as ~/.config/lago/lago.conf or /etc/lago/lago.conf and edit."
  static examples = ['<%= config.bin %> generate-config > ~/.config/lago/lago.conf', '<%= config.bin %> generate-config --verbose']
  static enableJsonFlag = false
  static flags = {verbose: Flags.boolean({summary: 'Also list, commented out, the verb options that have no default.'})}

  async run() {
    const {flags} = await this.parseLago(GenerateConfig)
    const [{renderConfigFile}, {verbSections}, {configLayers}] = await Promise.all([import('@lago/core'), import('../compat/verb-sections.js'), import('../config-layers.js')])
    const configured: Record<string, Record<string, unknown>> = {}
    for (const layer of await configLayers()) for (const [section, values] of Object.entries(layer.values)) Object.assign((configured[section] ??= {}), values)
    process.stdout.write(renderConfigFile(await this.loadConfig(), verbSections(this.config.commands, configured), {verbose: flags.verbose}))
  }
}
