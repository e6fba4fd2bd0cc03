import {access} from 'node:fs/promises'
import {LagoError, copyToGuest, execCapture, execOn, shellCommand, type Prefix, type VmState} from '@lago/core'
import {OVIRT_ENGINE} from './vm-types.js'

/** Where the answer file goes on the engine VM (the original's name). */
export const REMOTE_ANSWER_FILE = '/root/engine-answer-file'

/** The one VM of type ovirt-engine. */
export function engineVm(prefix: Prefix): VmState {
  const engines = prefix.state.vms.filter((vm) => vm.vmType === OVIRT_ENGINE.name)
  if (engines.length !== 1) {
    throw new LagoError(
      'INIT_FILE',
      `An oVirt environment has exactly one VM with "vm-type: ${OVIRT_ENGINE.name}"; this one has ${engines.length === 0 ? 'none' : engines.map((vm) => vm.name).join(', ')}.`,
      {
        hint: `Set "vm-type: ${OVIRT_ENGINE.name}" on the engine's domain in the init file.`,
      },
    )
  }
  return engines[0]
}

/** Copy the answer file to the engine VM and run engine-setup with it; its output streams to `out`. */
export async function runEngineSetup(prefix: Prefix, answerFile: string | undefined, out: {stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream}, signal?: AbortSignal): Promise<{vm: string}> {
  if (answerFile)
    await access(answerFile).catch(() => {
      throw new LagoError('USAGE', `Answer file ${answerFile}: no such file.`, {hint: 'Pass the engine answer file of the suite with --config.'})
    })
  const vm = engineVm(prefix)
  return prefix.withGuest(vm.name, signal, async (client) => {
    if ((await execCapture(client, 'command -v engine-setup')).exitCode !== 0) {
      throw new LagoError('VM', `engine-setup is not installed on the engine VM ${vm.name}.`, {hint: 'Install ovirt-engine there first (the suite\'s deploy scripts, "lago ovirt deploy").'})
    }
    const args = ['engine-setup', '--accept-defaults']
    if (answerFile) {
      await copyToGuest(client, answerFile, REMOTE_ANSWER_FILE)
      args.push(`--config-append=${REMOTE_ANSWER_FILE}`)
    }
    const exitCode = await execOn(client, shellCommand(args), {...out, signal})
    if (exitCode !== 0) {
      throw new LagoError('VM', `engine-setup failed on ${vm.name} (exit ${exitCode}).`, {
        hint: `Its log is under /var/log/ovirt-engine/setup on ${vm.name}.`,
        userError: false,
        detail: {vm: vm.name, exitCode},
      })
    }
    return {vm: vm.name}
  })
}
