/** A command line the launcher may run without oclif (see lean/run.ts). */
export type LeanCommandLine = {verb: 'status'; json: boolean; argv: string[]} | {verb: 'shell'; vm: string; words: string[]; json: false; argv: string[]}

/**
 * `status`, `status --json`, and `shell VM WORDS...` (words after the VM are never options;
 * without words it is an interactive shell, which oclif runs). Anything else: undefined.
 */
export function leanCommandLine(argv: string[], env: NodeJS.ProcessEnv = process.env): LeanCommandLine | undefined {
  if (env.LAGO_NO_LEAN) return undefined
  const [verb, ...rest] = argv
  if (verb === 'status' && (rest.length === 0 || (rest.length === 1 && rest[0] === '--json'))) return {verb, json: rest.length === 1, argv: rest}
  const [vm, ...words] = rest
  if (verb === 'shell' && vm !== undefined && !vm.startsWith('-') && words.length > 0) return {verb, vm, words, json: false, argv: [vm]}
  return undefined
}
