/** A command line the launcher may run without oclif (see lean/run.ts). */
export type LeanCommandLine =
  {verb: 'status'; json: boolean; argv: string[]} | {verb: 'shell'; vm: string; words: string[]; json: false; argv: string[]} | {verb: 'start'; vms: string[]; json: boolean; argv: string[]}

/**
 * `status [--json]`, `start [VM...] [--json]` and `shell VM WORDS...` (words after the VM are
 * never options; without words it is an interactive shell, which oclif runs). Anything else,
 * or LAGO_CONTENT_TYPE (oclif's --json from the environment): undefined.
 */
export function leanCommandLine(argv: string[], env: NodeJS.ProcessEnv = process.env): LeanCommandLine | undefined {
  if (env.LAGO_NO_LEAN || env.LAGO_CONTENT_TYPE !== undefined) return undefined
  const [verb, ...rest] = argv
  if (verb === 'status' && (rest.length === 0 || (rest.length === 1 && rest[0] === '--json'))) return {verb, json: rest.length === 1, argv: rest}
  if (verb === 'start') {
    const vms = rest.filter((word) => word !== '--json')
    if (rest.length - vms.length > 1 || vms.some((word) => word.startsWith('-'))) return undefined
    return {verb, vms, json: vms.length < rest.length, argv: rest}
  }
  const [vm, ...words] = rest
  if (verb === 'shell' && vm !== undefined && !vm.startsWith('-') && words.length > 0) return {verb, vm, words, json: false, argv: [vm]}
  return undefined
}
