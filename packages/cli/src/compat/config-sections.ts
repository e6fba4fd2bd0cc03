import type {Layer} from '@lago/core/prefix'

/** What the CLI knows of a command's flag (oclif flag definitions and manifest entries have these). */
export interface FlagShape {
  type: string
  char?: string
  aliases?: string[]
  default?: unknown
  summary?: string
  hidden?: boolean
  /** Flags it cannot be combined with: a configured default yields to them. */
  exclusive?: string[]
}

/** The configuration section of a command: `init`, `ovirt-reposetup`. */
export function verbSectionName(commandId: string): string {
  return commandId.replace(/:/g, '-')
}

/** The flag a section key names: `template_repo_path` → template-repo-path (or an alias of a flag). */
export function flagForKey(key: string, flags: Record<string, FlagShape>): string | undefined {
  const name = key.replace(/_/g, '-')
  if (name in flags) return name
  return Object.keys(flags).find((flag) => flags[flag].aliases?.includes(name))
}

const TRUE = /^(1|true|yes|on)$/i

/**
 * The original's `[lago]` defaults of its global options (also LAGO_PREFIX_PATH,
 * LAGO_WORKDIR_PATH ...), as the flags of every verb that has them; prefix_path beats
 * workdir_path, as --prefix-path beat --workdir-path.
 */
export const GLOBAL_KEYS: Record<string, string> = {
  workdir_path: 'prefix-path',
  prefix_path: 'prefix-path',
  prefix_name: 'prefix-name',
  out_format: 'out-format',
  log_level: 'log-level',
  events: 'events',
}

/**
 * Defaults from the verb's section (`[init] template_repo_path = repo.json`, or
 * LAGO__INIT__TEMPLATE_REPO_PATH) as flags, for those not on the command line: the original's
 * per-verb sections. Later layers win.
 */
export function verbSectionArgs(layers: Layer[], section: string, flags: Record<string, FlagShape>, argv: string[]): string[] {
  const merged: Record<string, unknown> = {}
  for (const layer of layers) {
    for (const [key, flag] of Object.entries(GLOBAL_KEYS)) if (layer.values.lago?.[key] !== undefined) merged[flag.replace(/-/g, '_')] = layer.values.lago[key]
    Object.assign(merged, layer.values[section] ?? {})
  }
  const args: string[] = []
  for (const [key, value] of Object.entries(merged)) {
    const name = flagForKey(key, flags)
    if (!name || [name, ...(flags[name].exclusive ?? [])].some((flag) => flags[flag] && given(argv, flag, flags[flag]))) continue
    if (flags[name].type === 'boolean') {
      if (TRUE.test(String(value))) args.push(`--${name}`)
    } else args.push(`--${name}`, String(value))
  }
  return args
}

function given(argv: string[], name: string, flag: FlagShape): boolean {
  const spellings = [`--${name}`, ...(flag.aliases ?? []).map((a) => `--${a}`), ...(flag.char ? [`-${flag.char}`] : [])]
  const end = argv.indexOf('--')
  return (end === -1 ? argv : argv.slice(0, end)).some((arg) => spellings.some((s) => arg === s || arg.startsWith(`${s}=`) || (s.length === 2 && arg.startsWith(s))))
}

/**
 * One line per setting that nothing reads: unknown sections and keys in files and in
 * LAGO__SECTION__KEY variables, and the original's keys that mean nothing here (with why).
 * `known(section, key)` says whether the core, a verb or a plugin reads it.
 */
export function unreadSettings(layers: Layer[], known: (section: string, key: string) => boolean): string[] {
  const lines: string[] = []
  for (const layer of layers) {
    for (const {section, key, why} of layer.ignored ?? []) lines.push(`${layer.source}: [${section}] ${key} has no effect in this Lago: ${why}.`)
    // LAGO_<NAME> is also how other tools pass Lago things around (LAGO_PREFIX_PATH ...): only [lago] keys from files count.
    const fromEnvironment = layer.source === 'the environment'
    for (const [section, values] of Object.entries(layer.values)) {
      if (fromEnvironment && section === 'lago') continue
      for (const key of Object.keys(values ?? {})) {
        if (!known(section, key)) lines.push(`${layer.source}: [${section}] ${key} is not a Lago setting: nothing reads it.`)
      }
    }
  }
  return lines
}
