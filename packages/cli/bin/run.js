#!/usr/bin/env node
import {fastPath} from '../lib/fast-path.js'

process.env.OCLIF_SKIP_NEW_VERSION_CHECK ??= 'true'
// A linked plugin with hooks (lago-ovirt's init hook) runs its compiled lib/; oclif would warn about it on every command.
process.env.OCLIF_DISABLE_LINKED_ESM_WARNING ??= 'true'
// --version, and --help as oclif printed it last time, without loading oclif.
if (!fastPath(process.argv.slice(2))) {
  const {launch} = await import('../lib/launch.js')
  await launch(import.meta.url)
}
