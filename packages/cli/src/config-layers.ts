import {DEFAULT_CONFIG, readConfigLayers, type Layer} from '@lago/core/prefix'
import {flagForKey, GLOBAL_KEYS, unreadSettings, verbSectionArgs, verbSectionName, type FlagShape} from './compat/config-sections.js'

let layers: Promise<Layer[]> | undefined
let warned = false

/** Every configuration source, read once per process. */
export function configLayers(): Promise<Layer[]> {
  layers ??= readConfigLayers()
  return layers
}

/** The command's `[verb]` section as flags not given on the command line. */
export function verbDefaults(all: Layer[], commandId: string | undefined, flags: Record<string, unknown>, argv: string[]): string[] {
  return commandId ? verbSectionArgs(all, verbSectionName(commandId), flags as Record<string, FlagShape>, argv) : []
}

/** Warn once per process about each setting nothing reads ([lago] ignore_warnings / --ignore-warnings silence it). */
export function warnUnreadSettings(all: Layer[], commands: {id: string; flags: Record<string, unknown>}[]): void {
  if (warned) return
  warned = true
  for (const line of unreadSettingWarnings(all, commands)) process.stderr.write(`Warning: ${line}\n`)
}

/** The warnings about settings nothing reads, given every command of the installation (none when silenced). */
export function unreadSettingWarnings(all: Layer[], commands: {id: string; flags: Record<string, unknown>}[]): string[] {
  const verbs = new Map(commands.map((c) => [verbSectionName(c.id), c.flags as Record<string, FlagShape>]))
  const core = DEFAULT_CONFIG as unknown as Record<string, Record<string, unknown>>
  const known = (section: string, key: string) =>
    (section in core && (key in core[section] || section === 'hypervisors')) ||
    (section === 'lago' && (key === 'ignore_warnings' || key in GLOBAL_KEYS)) ||
    (verbs.has(section) && flagForKey(key, verbs.get(section)!) !== undefined)
  const quiet = all.some((layer) => /^(1|true|yes|on)$/i.test(String(layer.values.lago?.ignore_warnings ?? '')))
  return quiet ? [] : unreadSettings(all, known)
}
