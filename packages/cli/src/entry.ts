import {fastPath, ownCli, type LaunchedCli} from './fast-path.js'
import {leanCommandLine} from './lean/command-line.js'

/**
 * What both launchers run (bin/run.js of a checkout or npm install, and the RPM's
 * /usr/bin/lago, which passes the CLI with the plugins other RPMs installed):
 * --version, and --help as oclif printed it last time, without loading oclif; `status`,
 * `start`, `stop` and `shell VM WORDS` too, when that gives what oclif would; else oclif.
 */
export async function runCli(cli?: LaunchedCli, argv: string[] = process.argv.slice(2)): Promise<void> {
  process.env.OCLIF_SKIP_NEW_VERSION_CHECK ??= 'true'
  // A linked plugin with hooks (lago-ovirt's init hook) runs its compiled lib/; oclif would warn about it on every command.
  process.env.OCLIF_DISABLE_LINKED_ESM_WARNING ??= 'true'
  // Read once for the fast and lean paths (each would otherwise read the package.json again).
  const launched = cli ?? ownCli()
  if (fastPath(argv, process.env, launched)) return
  const lean = leanCommandLine(argv)
  if (lean && (await (await leanRun()).runLean(lean, process.env, launched))) return
  const {launch} = await import('./launch.js')
  await launch(cli, argv)
}

/** The lean path as one file (npm run build makes it; see scripts/bundle-lean.mjs), else its modules. */
async function leanRun(): Promise<typeof import('./lean/run.js')> {
  const bundle = new URL('lean.bundle.js', import.meta.url)
  try {
    return (await import(bundle.href)) as typeof import('./lean/run.js')
  } catch (error) {
    // Only a checkout built without the bundle runs the modules; a bundle that fails to load is a bug to see.
    const missing = (error as {code?: string}).code === 'ERR_MODULE_NOT_FOUND' && String((error as Error).message).includes(bundle.pathname)
    if (missing) return import('./lean/run.js')
    throw error
  }
}
