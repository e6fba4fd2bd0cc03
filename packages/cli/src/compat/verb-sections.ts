import type {VerbSection} from '@lago/core'
import {verbSectionName, type FlagShape} from './config-sections.js'

/** Flags that are about one run, not defaults worth configuring. */
const PER_RUN = new Set(['help', 'json', 'log-level', 'prefix-path', 'prefix-name', 'version'])

/** Each command's flags as the keys of its configuration section, with the configured value or the default (for generate-config). */
export function verbSections(
  commands: {id: string; summary?: string; hidden?: boolean; aliases?: string[]; flags: Record<string, unknown>}[],
  configured: Record<string, Record<string, unknown>> = {},
): VerbSection[] {
  return commands
    .filter((c) => !c.hidden && !c.id.startsWith('plugins') && c.id !== 'help' && !c.aliases?.includes(c.id))
    .sort((a, b) => a.id.localeCompare(b.id))
    .map((c) => ({
      name: verbSectionName(c.id),
      command: c.id.replace(/:/g, ' '),
      summary: c.summary,
      options: Object.entries(c.flags as Record<string, FlagShape>)
        .filter(([name, flag]) => !PER_RUN.has(name) && !flag.hidden)
        .map(([name, flag]) => {
          const key = name.replace(/-/g, '_')
          const fallback = flag.type === 'option' && !Array.isArray(flag.default) && flag.default !== undefined ? String(flag.default) : undefined
          const value = configured[verbSectionName(c.id)]?.[key] ?? fallback
          return {key, help: flag.summary, value: value === undefined ? undefined : String(value), default: fallback}
        }),
    }))
}
