import {readFileSync, statSync} from 'node:fs'
import {execOn, interactiveShell, type Prefix} from '@lago/core/prefix'
import {shellAction} from './compat/shell-words.js'

/**
 * `lago shell VM WORDS...`: an interactive shell, a local script, or a command (with `-c`
 * given before the VM, or the words); resolves to the remote exit status. Non-terminal stdin
 * feeds the command (or is the script of a shell without words).
 */
export async function runShell(prefix: Prefix, vm: string, words: string[], command: string | undefined, signal: AbortSignal): Promise<number> {
  const action = command === undefined ? shellAction(words, (file) => statSync(file, {throwIfNoEntry: false})?.isFile() ?? false) : {kind: 'command' as const, command: [command, ...words].join(' ')}
  const output = {stdout: process.stdout, stderr: process.stderr}
  return prefix.withGuest(vm, signal, (client) => {
    if (action.kind === 'command') return execOn(client, action.command, {...output, stdin: process.stdin.isTTY ? '' : process.stdin})
    if (action.kind === 'script') return execOn(client, 'sh -s', {...output, stdin: readFileSync(action.file, 'utf8')})
    if (process.stdin.isTTY) return interactiveShell(client, {stdin: process.stdin, stdout: process.stdout})
    return execOn(client, 'sh -s', {...output, stdin: process.stdin})
  })
}
