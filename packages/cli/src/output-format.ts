import {Flags} from '@oclif/core'

export const outFormatFlag = Flags.option({
  char: 'f',
  options: ['table', 'default', 'json', 'yaml', 'flat'] as const,
  default: 'table' as const,
  summary: "Output format: table (default) or the original Lago's json, yaml, flat (--json is this command's own structure).",
})()

export type OutFormat = 'table' | 'default' | 'json' | 'yaml' | 'flat'

/** Render a value as JSON, YAML or flat `path/to/key: value` lines; undefined for `table`. */
export async function formatValue(value: unknown, format: OutFormat): Promise<string | undefined> {
  if (format === 'json') return JSON.stringify(value, null, 4)
  if (format === 'yaml') return (await import('yaml')).stringify(value, {lineWidth: 0})
  if (format === 'flat') return flatten(value).join('\n')
  return undefined
}

function flatten(value: unknown, prefix = ''): string[] {
  if (value === null || typeof value !== 'object') return [`${prefix}: ${value === undefined ? '' : String(value)}`]
  const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value)
  if (entries.length === 0) return []
  return entries.flatMap(([key, v]) => flatten(v, prefix ? `${prefix}/${key}` : key))
}
