/**
 * argparse-style option reading shared by the global and per-verb translation tables:
 * `--name value`, `--name=value`, `-x value`, `-xvalue`, and unique prefixes of long names
 * (argparse accepts `--workdir` for `--workdir-path`; OST's run_suite.sh relies on it).
 */
export interface OptionSpec {
  /** Long names without the dashes, e.g. ['workdir-path']. */
  long: string[]
  /** Short letter without the dash. */
  short?: string
  /** 0: a switch; 1: one value; '*': every following word that is not an option (argparse nargs='*'). */
  arity: 0 | 1 | '*'
}

export interface OptionMatch<T extends OptionSpec> {
  spec: T
  /** How the user spelled it (for messages). */
  spelled: string
  values: string[]
  /** Tokens consumed, the option itself included. */
  consumed: number
}

export class OptionError extends Error {}

/** The option at argv[index] among `specs`, or undefined when it is not one of them. */
export function matchOption<T extends OptionSpec>(argv: string[], index: number, specs: T[], abbreviations = false): OptionMatch<T> | undefined {
  const token = argv[index]
  if (token === undefined || token === '--' || !token.startsWith('-') || token === '-') return undefined
  let spec: T | undefined
  let inline: string | undefined
  let spelled: string
  if (token.startsWith('--')) {
    const [name, ...rest] = token.slice(2).split('=')
    inline = rest.length > 0 ? rest.join('=') : undefined
    spelled = `--${name}`
    spec = abbreviations ? longMatch(name, specs) : specs.find((s) => s.long.includes(name))
  } else {
    spelled = token.slice(0, 2)
    spec = specs.find((s) => s.short === token[1])
    if (spec && token.length > 2) inline = token.slice(2)
  }
  if (!spec) return undefined
  if (spec.arity === 0) {
    if (inline !== undefined) throw new OptionError(`${spelled} takes no value (got "${inline}").`)
    return {spec, spelled, values: [], consumed: 1}
  }
  if (inline !== undefined) return {spec, spelled, values: [inline], consumed: 1}
  if (spec.arity === 1) {
    const value = argv[index + 1]
    if (value === undefined) throw new OptionError(`${spelled} needs a value.`)
    return {spec, spelled, values: [value], consumed: 2}
  }
  const values: string[] = []
  while (index + 1 + values.length < argv.length && !argv[index + 1 + values.length].startsWith('-')) values.push(argv[index + 1 + values.length])
  return {spec, spelled, values, consumed: 1 + values.length}
}

/** An exact long name, else the only spec with a long name it is a prefix of (argparse's abbreviations). */
function longMatch<T extends OptionSpec>(name: string, specs: T[]): T | undefined {
  const exact = specs.find((s) => s.long.includes(name))
  if (exact) return exact
  const candidates = specs.filter((s) => s.long.some((l) => l.startsWith(name)))
  if (candidates.length > 1) {
    throw new OptionError(`--${name} is ambiguous: it could be ${candidates.map((c) => `--${c.long[0]}`).join(' or ')}.`)
  }
  return name.length >= 3 ? candidates[0] : undefined
}
