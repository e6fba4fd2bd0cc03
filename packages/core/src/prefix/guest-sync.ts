import {errorMessage} from '../errors.js'
import {log} from '../log.js'
import {ARM_WAITER, armOutcome} from './clock-port.js'
import type {Prefix} from './prefix.js'
import type {VmState} from './state.js'

/**
 * Make the guest's page cache reach its disks before they are frozen or left alone (best
 * effort: `failed` hears why it could not, and says what that means for the caller). With
 * `armClock`, the same command leaves the waiter that sets the clock after a restore
 * (clock-port.ts); the result says whether it is in place.
 */
export async function syncGuest(prefix: Prefix, vm: VmState, options: {signal?: AbortSignal; wait?: boolean; armClock?: boolean; failed: (reason: string) => void}): Promise<{clockWaiter: boolean}> {
  try {
    if (options.wait) await prefix.waitForVm(vm, options.signal)
    const {execCapture} = await import('../ssh/client.js')
    const client = await prefix.ssh(vm)
    try {
      const result = await execCapture(client, options.armClock ? `sync\n${ARM_WAITER}` : 'sync')
      if (!options.armClock) return {clockWaiter: false}
      const outcome = armOutcome(result.stdout)
      if (outcome !== 'armed') log.debug(`${vm.name}: no clock waiter for the resume (${outcome}); its clock will be set over SSH`)
      return {clockWaiter: outcome === 'armed'}
    } finally {
      client.end()
    }
  } catch (error) {
    if (options.signal?.aborted) throw error
    options.failed(errorMessage(error))
    return {clockWaiter: false}
  }
}
