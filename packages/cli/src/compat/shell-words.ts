/** What `lago shell VM WORDS...` does, by the original's rule (no option parsing after the VM). */
export type ShellAction = {kind: 'interactive'} | {kind: 'script'; file: string} | {kind: 'command'; command: string}

/**
 * No words: an interactive shell. One word naming an existing local file: that script, run
 * remotely. Otherwise a leading `-c` is dropped and the words, joined with spaces, are the command.
 */
export function shellAction(words: string[], isLocalFile: (path: string) => boolean): ShellAction {
  if (words.length === 0) return {kind: 'interactive'}
  if (words.length === 1 && isLocalFile(words[0])) return {kind: 'script', file: words[0]}
  const command = (words[0] === '-c' ? words.slice(1) : words).join(' ')
  return command === '' ? {kind: 'interactive'} : {kind: 'command', command}
}

/**
 * Splits argv after its first positional argument (the VM): what comes before is parsed as
 * flags, what comes after is left alone. `valueFlags` are the spellings (`--name`, `-x`) of
 * flags that take a separate value.
 */
export function splitAfterFirstArg(argv: string[], valueFlags: Set<string>): {head: string[]; words: string[]} {
  for (let index = 0; index < argv.length; index++) {
    const token = argv[index]
    if (token === '--') return {head: argv.slice(0, index + 2), words: argv.slice(index + 2)}
    if (!token.startsWith('-') || token === '-') return {head: argv.slice(0, index + 1), words: argv.slice(index + 1)}
    if (valueFlags.has(token)) index++
  }
  return {head: argv, words: []}
}

/** `--name` and `-x` of every flag that takes a value. */
export function valueFlagSpellings(flags: Record<string, {type: string; char?: string}>): Set<string> {
  const spellings = new Set<string>()
  for (const [name, flag] of Object.entries(flags)) {
    if (flag.type !== 'option') continue
    spellings.add(`--${name}`)
    if (flag.char) spellings.add(`-${flag.char}`)
  }
  return spellings
}
