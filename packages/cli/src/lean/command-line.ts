/** A command line the launcher may run without oclif (see lean/run.ts). */
export type LeanCommandLine =
  | {verb: 'status'; json: boolean; argv: string[]}
  | {verb: 'shell'; vm: string; words: string[]; json: false; argv: string[]}
  | {verb: 'start'; vms: string[]; json: boolean; argv: string[]}
  | {verb: 'stop'; vms: string[]; json: boolean; save: boolean; argv: string[]}

/**
 * `status [--json]`, `start [VM...] [--json]`, `stop [VM...] [--save] [--json]` and
 * `shell VM WORDS...` (words after the VM are never options; without words it is an
 * interactive shell, which oclif runs). Anything else, or LAGO_CONTENT_TYPE (oclif's --json
 * from the environment): undefined.
 */
export function leanCommandLine(argv: string[], env: NodeJS.ProcessEnv = process.env): LeanCommandLine | undefined {
  if (env.LAGO_NO_LEAN || env.LAGO_CONTENT_TYPE !== undefined) return undefined
  const [verb, ...rest] = argv
  if (verb === 'status' && (rest.length === 0 || (rest.length === 1 && rest[0] === '--json'))) return {verb, json: rest.length === 1, argv: rest}
  if (verb === 'start') {
    const words = vmsAndSwitches(rest, ['--json'])
    return words && {verb, vms: words.vms, json: words.given.has('--json'), argv: rest}
  }
  if (verb === 'stop') {
    const words = vmsAndSwitches(rest, ['--json', '--save'])
    return words && {verb, vms: words.vms, json: words.given.has('--json'), save: words.given.has('--save'), argv: rest}
  }
  const [vm, ...words] = rest
  if (verb === 'shell' && vm !== undefined && !vm.startsWith('-') && words.length > 0) return {verb, vm, words, json: false, argv: [vm]}
  return undefined
}

/** VM names and the `switches` among `words`, in any order; undefined for any other option or a switch given twice. */
function vmsAndSwitches(words: string[], switches: string[]): {vms: string[]; given: Set<string>} | undefined {
  const vms = words.filter((word) => !switches.includes(word))
  const given = new Set(words.filter((word) => switches.includes(word)))
  if (given.size < words.length - vms.length || vms.some((word) => word.startsWith('-'))) return undefined
  return {vms, given}
}
