import {formatBytes} from '../util/format.js'
import {controlCharacterIn} from '../util/safe-path.js'

/** An inclusive range of a number, with how to print a value of it. */
export interface Bounds {
  min: number
  max: number
  describe: (value: number) => string
}

const MiB = 1024 * 1024

/** What an init file may ask for: past these, it is a mistake or an attack, never a test environment. */
export const LIMITS = {
  initFileBytes: 1 * MiB,
  /** YAML alias expansions (a "billion laughs" document needs thousands). */
  yamlAliases: 100,
  /** Levels of nesting of the document (a real init file needs about 6). */
  depth: 32,
  memoryMiB: {min: 16, max: 4 * 1024 * 1024, describe: (v: number) => `${v} MiB`} satisfies Bounds,
  diskBytes: {min: MiB, max: 64 * 1024 * 1024 * MiB, describe: (v: number) => (Number.isFinite(v) && v < 2 ** 60 ? formatBytes(v) : `${v} bytes`)} satisfies Bounds,
  bootTimeSec: 7 * 24 * 3600,
} as const

/**
 * Control characters in any string of the raw document (keys too): they would reach XML,
 * paths, scripts, inventories or command lines. Free text (`comment`, values under
 * `metadata` other than `distro` and the script lists) may hold tabs and line breaks.
 */
export function checkRawStrings(raw: unknown): string[] {
  const problems: string[] = []
  const visit = (value: unknown, where: string, freeText: boolean): void => {
    if (typeof value === 'string') {
      const bad = freeText ? controlCharacterIn(value.replace(/[\t\n\r]/g, '')) : controlCharacterIn(value)
      if (bad) problems.push(`${where || '(top level)'}: contains the control character "${bad}"; remove it`)
      return
    }
    if (value === null || typeof value !== 'object') return
    for (const [key, child] of Object.entries(value)) {
      const at = joinPath(where, key)
      const keyBad = Array.isArray(value) ? undefined : controlCharacterIn(key)
      if (keyBad) {
        problems.push(`${at}: the name contains the control character "${keyBad}"; remove it`)
        continue
      }
      const insideMetadata = /(^|\.)metadata$/.test(where)
      const free = freeText || key === 'comment' || (insideMetadata && key !== 'distro' && !key.endsWith('-scripts'))
      visit(child, at, free)
    }
  }
  visit(raw, '', false)
  return problems
}

/**
 * How deep the text of a YAML/JSON document nests, estimated before any parser sees it (the
 * YAML parser itself runs out of memory on a few thousand levels): indentation levels, block
 * indicators ("- - - x") and open flow brackets, quotes ignored (a real file never comes close).
 */
export function textNesting(text: string): number {
  const indents: number[] = []
  let flow = 0
  let deepest = 0
  for (const line of text.split('\n')) {
    const match = /^( *)((?:[-?:][ \t]+)*)(.*)$/.exec(line)!
    const [, indent, indicators, rest] = match
    if (rest.trim() === '' && indicators === '') continue
    while (indents.length > 0 && indents[indents.length - 1] >= indent.length) indents.pop()
    indents.push(indent.length)
    for (const char of rest) {
      if (char === '[' || char === '{') deepest = Math.max(deepest, indents.length + ++flow)
      else if ((char === ']' || char === '}') && flow > 0) flow--
    }
    deepest = Math.max(deepest, indents.length + indicators.replace(/\s/g, '').length + flow)
  }
  return deepest
}

/** A field path as messages print it: `domains.vm0.nics[1]`, `nets["odd name"]`. */
export function joinPath(base: string, part: string): string {
  if (/^\d+$/.test(part)) return `${base}[${part}]`
  if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(part)) return base ? `${base}.${part}` : part
  return `${base}[${JSON.stringify(part)}]`
}
