import {Flags} from '@oclif/core'

export const outFormatFlag = Flags.option({
  char: 'f',
  options: ['table', 'default', 'json', 'yaml', 'flat'] as const,
  default: 'table' as const,
  summary: "Output format: table (the default) or the original Lago's default, json, yaml, flat (--json is this command's own structure).",
})()

export type OutFormat = 'table' | 'default' | 'json' | 'yaml' | 'flat'

/** Render a value as JSON, YAML, flat `path/to/key: value` lines or the original's default tree; undefined for `table`. */
export async function formatValue(value: unknown, format: OutFormat): Promise<string | undefined> {
  if (format === 'default') return tree(value).join('\n')
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

/** The original's default output: keys sorted, a mapping as "[key]:" over its entries indented 4 more, empty values left out. */
function tree(value: unknown, indent = ''): string[] {
  if (Array.isArray(value)) return value.flatMap((item) => (item !== null && typeof item === 'object' ? tree(item, indent) : [`${indent}${String(item)}`]))
  if (value === null || typeof value !== 'object') return [`${indent}${String(value)}`]
  const lines: string[] = []
  for (const [key, item] of Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    // code point order, as Python's sorted()
    if (item === undefined || item === null || item === '' || (typeof item === 'object' && Object.keys(item).length === 0)) continue
    if (typeof item === 'object') lines.push(`${indent}[${key}]:`, ...tree(item, `${indent}    `))
    else lines.push(`${indent}${key}: ${String(item)}`)
  }
  return lines
}
