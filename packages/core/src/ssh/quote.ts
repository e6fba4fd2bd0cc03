/** One argument for a POSIX shell command line on the guest: single-quoted, quotes escaped. */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_/.,:=+@%-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`
}

/** A command line from an argument array, every argument quoted for the guest's shell. */
export function shellCommand(args: readonly string[]): string {
  return args.map(shellQuote).join(' ')
}
