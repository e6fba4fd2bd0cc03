/** A mistake the user can fix (bad option, missing build, refused promotion): one line, exit 2. */
export class ScriptError extends Error {}

/** Runs a script's command: its output on stdout; a ScriptError as one line on stderr (exit 2), anything else with its stack (exit 1). */
export async function main(run: (argv: string[]) => Promise<string>, name: string): Promise<void> {
  try {
    const output = await run(process.argv.slice(2))
    if (output) process.stdout.write(output.endsWith('\n') ? output : `${output}\n`)
  } catch (error) {
    const known = error instanceof ScriptError || (error instanceof Error && error.name === 'TypeError' && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS'))
    process.stderr.write(`${name}: ${known ? error.message : error instanceof Error ? error.stack : String(error)}\n`)
    process.exitCode = known ? 2 : 1
  }
}
