import {Config, execute, type Interfaces} from '@oclif/core'
import {mayNeedTranslation, translateArgv} from './compat/argv.js'
import {cliRoot, isHelpOnly, storeHelp, type LaunchedCli} from './fast-path.js'

/**
 * Run the CLI under oclif (see entry.ts: what the launchers run when neither the fast path nor
 * the lean path answers). A command line of the original Lago (global options before the verb,
 * old flag spellings) is rewritten first; the command list is loaded for that only when needed.
 */
export async function launch(cli?: LaunchedCli, argv: string[] = process.argv.slice(2)): Promise<void> {
  const loadOptions: Interfaces.LoadOptions = cli ? {root: cli.root, pjson: cli.pjson as Interfaces.PJSON} : cliRoot
  if (isHelpOnly(argv)) {
    const text = await capturingStdout(() => execute({args: argv, loadOptions}))
    if (!process.exitCode) storeHelp(argv, text, process.env, cli)
    return
  }
  if (!mayNeedTranslation(argv)) {
    await execute({args: argv, loadOptions})
    return
  }
  const config = await Config.load(loadOptions)
  const translation = translateArgv(argv, (id) => config.findCommand(id))
  if (translation.error) {
    process.stderr.write(`Error: ${translation.error}\n`)
    process.exit(2)
  }
  Object.assign(process.env, translation.env)
  for (const notice of translation.notices) process.stderr.write(`Notice: ${notice}\n`)
  // The original printed "lago <version>", which scripts read.
  if (translation.argv.length === 1 && translation.argv[0] === '--version') process.stdout.write(`${config.bin} ${config.version}\n`)
  else await execute({args: translation.argv, loadOptions: config})
}

/** Run `work`, passing its standard output through and returning a copy of it. */
async function capturingStdout(work: () => Promise<unknown>): Promise<string> {
  const chunks: string[] = []
  const write = process.stdout.write.bind(process.stdout)
  const copying = (chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString())
    return (write as (...args: unknown[]) => boolean)(chunk, ...rest)
  }
  process.stdout.write = copying
  try {
    await work()
  } finally {
    process.stdout.write = write
  }
  return chunks.join('')
}
