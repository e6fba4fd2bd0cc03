import {createHash} from 'node:crypto'
import {mkdirSync, readFileSync, renameSync, statSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

/**
 * `lago --version` and `lago --help` without loading oclif (node builtins only, so the
 * launcher can try this first). The version comes from the CLI's package.json; the help is
 * the text oclif printed last time for the same installation (CLI, manifests, plugins),
 * terminal and colour settings, kept in the user's cache directory.
 */

export const cliRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

/** The CLI's package.json, as much of it as the launchers read. */
export interface CliPackageJson {
  name: string
  version: string
  oclif?: {bin?: string; plugins?: string[]; hooks?: Record<string, unknown>}
}

/**
 * The CLI as a launcher runs it: its root and its package.json. The RPM's launcher adds, as
 * core plugins, the plugins other RPMs installed; a checkout or npm install runs it as it is.
 */
export interface LaunchedCli {
  root: string
  pjson: CliPackageJson
}

/** This CLI as its package.json on disk describes it; undefined when that cannot be read. */
export function ownCli(): LaunchedCli | undefined {
  const pjson = readJson<CliPackageJson>(path.join(cliRoot, 'package.json'))
  return pjson && {root: cliRoot, pjson}
}

/** Where node would find package `name` from `from` (the CLI's root). */
export function nodeModule(name: string, from: string): string | undefined {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name)
    if (readJson(path.join(candidate, 'package.json'))) return candidate
    if (path.dirname(dir) === dir) return undefined
  }
}

export function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T
  } catch {
    return undefined
  }
}

function stamp(file: string): string {
  try {
    const s = statSync(file)
    return `${file}:${s.size}:${s.mtimeMs}`
  } catch {
    return `${file}:-`
  }
}

export function dataDir(env: NodeJS.ProcessEnv): string {
  return env.LAGO_DATA_DIR ?? path.join(env.XDG_DATA_HOME ?? path.join(os.homedir(), '.local/share'), 'lago')
}

/** The plugins this user linked or installed (`lago plugins link|install`); root undefined when oclif's record names none. */
export function userPlugins(env: NodeJS.ProcessEnv): {name: string; root?: string}[] {
  const dir = dataDir(env)
  const listed = readJson<{oclif?: {plugins?: {name: string; type?: string; root?: string}[]}}>(path.join(dir, 'package.json'))?.oclif?.plugins ?? []
  return listed.map((plugin) => ({name: plugin.name, root: plugin.type === 'user' ? path.join(dir, 'node_modules', plugin.name) : plugin.root}))
}

/**
 * Everything the help text depends on: the installation (the CLI, the plugins it runs as core
 * plugins and the user's, each one's manifest), the terminal, colours.
 */
function helpKey(argv: string[], env: NodeJS.ProcessEnv, cli: LaunchedCli): string {
  const files = [path.join(cli.root, 'package.json'), path.join(cli.root, 'oclif.manifest.json'), path.join(dataDir(env), 'package.json')]
  const roots = [...(cli.pjson.oclif?.plugins ?? []).map((name) => nodeModule(name, cli.root)), ...userPlugins(env).map((plugin) => plugin.root)]
  for (const root of roots) if (root) files.push(path.join(root, 'package.json'), path.join(root, 'oclif.manifest.json'))
  const terminal = [process.stdout.isTTY ?? false, process.stdout.columns, env.OCLIF_COLUMNS, env.COLUMNS, env.NO_COLOR, env.FORCE_COLOR, env.TERM]
  const settings = Object.entries(env).filter(([name]) => name.startsWith('OCLIF_') || name.startsWith('LAGO_'))
  return createHash('sha256')
    .update(JSON.stringify([argv, cli.pjson.oclif?.plugins ?? [], files.map(stamp), terminal, settings, process.version]))
    .digest('hex')
    .slice(0, 32)
}

function helpFile(argv: string[], env: NodeJS.ProcessEnv, cli: LaunchedCli): string {
  return path.join(env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'lago', 'help', `${helpKey(argv, env, cli)}.txt`)
}

/** Whether this command line is one the fast path answers (the root help, the version). */
export function isHelpOnly(argv: string[]): boolean {
  return argv.length === 1 && (argv[0] === '--help' || argv[0] === '-h')
}

/** Answer --version, or --help from the cache; false when oclif must run. */
export function fastPath(argv: string[], env: NodeJS.ProcessEnv = process.env, cli: LaunchedCli | undefined = ownCli()): boolean {
  if (!cli) return false
  if (argv.length === 1 && argv[0] === '--version') {
    // The original printed "lago <version>", which scripts read (as the launcher's compat path does).
    process.stdout.write(`${cli.pjson.oclif?.bin ?? 'lago'} ${cli.pjson.version}\n`)
    return true
  }
  if (!isHelpOnly(argv) || env.LAGO_NO_HELP_CACHE) return false
  try {
    process.stdout.write(readFileSync(helpFile(argv, env, cli)))
    return true
  } catch {
    return false
  }
}

/** Keep what oclif printed for this help, for the next time (best effort: a read-only home just means no cache). */
export function storeHelp(argv: string[], text: string, env: NodeJS.ProcessEnv = process.env, cli: LaunchedCli | undefined = ownCli()): void {
  if (!cli) return
  try {
    const file = helpFile(argv, env, cli)
    mkdirSync(path.dirname(file), {recursive: true})
    const tmp = `${file}.${process.pid}.tmp`
    writeFileSync(tmp, text)
    renameSync(tmp, file)
  } catch {
    // no cache then
  }
}
