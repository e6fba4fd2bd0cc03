#!/usr/bin/env node
import {Config, execute} from '@oclif/core'
import {mayNeedTranslation, translateArgv} from '../lib/compat/argv.js'

process.env.OCLIF_SKIP_NEW_VERSION_CHECK ??= 'true'
// A linked plugin with hooks (lago-ovirt's init hook) runs its compiled lib/; oclif would warn about it on every command.
process.env.OCLIF_DISABLE_LINKED_ESM_WARNING ??= 'true'
const argv = process.argv.slice(2)
if (mayNeedTranslation(argv)) {
  // A command line of the original Lago (global options before the verb, old flag spellings) works unchanged.
  const config = await Config.load(import.meta.url)
  const translation = translateArgv(argv, (id) => config.findCommand(id))
  if (translation.error) {
    process.stderr.write(`Error: ${translation.error}\n`)
    process.exit(2)
  }
  Object.assign(process.env, translation.env)
  for (const notice of translation.notices) process.stderr.write(`Notice: ${notice}\n`)
  if (translation.argv.length === 1 && translation.argv[0] === '--version')
    process.stdout.write(`${config.bin} ${config.version}\n`) // the original's form
  else await execute({args: translation.argv, loadOptions: config})
} else {
  await execute({dir: import.meta.url})
}
