import {GLOBAL_OPTIONS, GlobalOptionError, type GlobalSettings} from './global-options.js'
import {matchOption, OptionError} from './options.js'
import {VERB_OPTIONS} from './verb-options.js'

/** What the translation needs to know of a command (oclif's manifest entry has these). */
export interface CommandInfo {
  id: string
  flags: Record<string, {type: string; char?: string; aliases?: string[]}>
}
export type FindCommand = (id: string) => CommandInfo | undefined

export interface Translation {
  /** The command line in the new CLI's spelling. */
  argv: string[]
  /** Configuration set by global options, for process.env. */
  env: Record<string, string>
  /** One line each: original flags accepted but meaning nothing here. */
  notices: string[]
  /** A usage error in the original's options (exit 2). */
  error?: string
}

/**
 * Rewrites a command line of the original Lago into this CLI's: global options given before
 * the verb (`lago --workdir W destroy`, `lago -f yaml export ...`) become the verb's flags or
 * configuration, and the verbs' old flag spellings become the new ones. A command line
 * already in the new spelling passes through unchanged.
 */
export function translateArgv(argv: string[], find: FindCommand): Translation {
  const settings: GlobalSettings = {env: {}, notices: [], ignoreWarnings: false}
  try {
    let index = 0
    for (let match = matchOption(argv, index, GLOBAL_OPTIONS, true); match; match = matchOption(argv, index, GLOBAL_OPTIONS, true)) {
      match.spec.apply(settings, match.values[0] ?? '', match.spelled)
      index += match.consumed
    }
    const rest = argv.slice(index)
    const command = findCommand(rest, find)
    if (!command) return {argv: rest, env: settings.env, notices: visible(settings)}
    const verbArgs = translateVerbOptions(command.info.id, rest.slice(command.words), settings.notices)
    const flags = globalFlags(command.info, settings, verbArgs)
    return {argv: [...rest.slice(0, command.words), ...flags, ...verbArgs], env: settings.env, notices: visible(settings)}
  } catch (error) {
    if (error instanceof OptionError || error instanceof GlobalOptionError) return {argv, env: {}, notices: [], error: error.message}
    throw error
  }
}

function visible(settings: GlobalSettings): string[] {
  return settings.ignoreWarnings ? [] : settings.notices
}

/**
 * Whether `translateArgv` could change this command line: it starts with an option (a global
 * one of the original), or names a verb that has old flag spellings. Lets the launcher skip
 * loading the command list for everything else.
 */
export function mayNeedTranslation(argv: string[]): boolean {
  const first = argv[0]
  if (first === undefined || first === '--help' || first === '-h') return false
  if (first.startsWith('-')) return true
  return Object.keys(VERB_OPTIONS).some((id) => id.split(':').every((word, i) => argv[i]?.replace(/_/g, '-') === word))
}

/** The longest run of leading words naming a command (`ovirt reposetup`, `template list`, `status`). */
function findCommand(argv: string[], find: FindCommand): {info: CommandInfo; words: number} | undefined {
  const words = argv.findIndex((a) => a.startsWith('-'))
  for (let n = Math.min(words === -1 ? argv.length : words, 3); n > 0; n--) {
    const info = find(argv.slice(0, n).join(':'))
    if (info) return {info, words: n}
  }
  return undefined
}

/** Old spellings of the verb's own flags; the shell verb's words after the VM are never options. */
function translateVerbOptions(id: string, args: string[], notices: string[]): string[] {
  const specs = VERB_OPTIONS[id] ?? VERB_OPTIONS[id.replace(/_/g, '-')]
  if (!specs) return args
  const out: string[] = []
  for (let index = 0; index < args.length;) {
    if (args[index] === '--') {
      out.push(...args.slice(index))
      break
    }
    const match = matchOption(args, index, specs)
    if (!match) {
      out.push(args[index++])
      continue
    }
    index += match.consumed
    if (match.spec.notice) notices.push(`${match.spelled} is accepted for compatibility and ignored: ${match.spec.notice}.`)
    if (match.spec.to) {
      if (match.spec.arity === 0) out.push(`--${match.spec.to}`)
      else for (const value of match.values) out.push(`--${match.spec.to}`, value)
    }
  }
  return out
}

/** The global options as flags of this command (only those it has; the others get a notice). */
function globalFlags(info: CommandInfo, settings: GlobalSettings, verbArgs: string[]): string[] {
  const has = (flag: string) => flag in info.flags
  const verb = info.id.replace(/:/g, ' ')
  const flags: string[] = []
  const unused = (option: string) => settings.notices.push(`${option} has no effect on "${verb}".`)
  if (settings.logLevel && has('log-level')) flags.push('--log-level', settings.logLevel)
  const where = settings.prefixPath ?? settings.workdirPath
  if (where !== undefined) {
    if (info.id === 'list') {
      if (!verbArgs.some((a) => !a.startsWith('-'))) verbArgs.push(where)
    } else if (has('prefix-path') && info.id !== 'init') flags.push('--prefix-path', where)
    else unused(settings.prefixPath === undefined ? '--workdir-path' : '--prefix-path')
  }
  if (settings.prefixName !== undefined) {
    if (has('prefix-name')) flags.push('--prefix-name', settings.prefixName)
    else unused('--prefix-name')
  }
  if (settings.outFormat !== undefined) flags.push(...outFormatFlags(settings.outFormat, has, () => unused(`--out-format ${settings.outFormat}`)))
  return flags
}

function outFormatFlags(format: string, has: (flag: string) => boolean, unused: () => void): string[] {
  if (has('out-format')) return ['--out-format', format]
  if (has('init-file-format')) return format === 'json' ? ['--init-file-format', 'json'] : []
  if (has('format') && (format === 'json' || format === 'yaml')) return ['--format', format]
  if (format === 'default') return []
  if (format === 'json' && has('json')) return ['--json']
  unused()
  return []
}
