#!/usr/bin/env node
import {fastPath} from '../lib/fast-path.js'
import {leanCommandLine} from '../lib/lean/command-line.js'

process.env.OCLIF_SKIP_NEW_VERSION_CHECK ??= 'true'
// A linked plugin with hooks (lago-ovirt's init hook) runs its compiled lib/; oclif would warn about it on every command.
process.env.OCLIF_DISABLE_LINKED_ESM_WARNING ??= 'true'
const argv = process.argv.slice(2)
// --version, and --help as oclif printed it last time, without loading oclif;
// `status`, `start`, `stop` and `shell VM WORDS` too, when that gives what oclif would.
const lean = leanCommandLine(argv)
// The lean path as one file (npm run build makes it; see scripts/bundle-lean.mjs), else its modules.
const bundle = new URL('../lib/lean.bundle.js', import.meta.url)
const leanRun = () =>
  import(bundle.href).catch((error) => {
    // Only a checkout built without the bundle runs the modules; a bundle that fails to load is a bug to see.
    if (error?.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes(bundle.pathname)) return import('../lib/lean/run.js')
    throw error
  })
if (!fastPath(argv) && !(lean && (await (await leanRun()).runLean(lean)))) {
  const {launch} = await import('../lib/launch.js')
  await launch(import.meta.url)
}
