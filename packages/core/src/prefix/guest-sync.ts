import {errorMessage} from '../errors.js'
import type {Prefix} from './prefix.js'
import type {VmState} from './state.js'

/**
 * Make the guest's page cache reach its disks before they are frozen or left alone (best
 * effort: `failed` hears why it could not, and says what that means for the caller).
 */
export async function syncGuest(prefix: Prefix, vm: VmState, options: {signal?: AbortSignal; wait?: boolean; failed: (reason: string) => void}): Promise<void> {
  try {
    if (options.wait) await prefix.waitForVm(vm, options.signal)
    const {execCapture} = await import('../ssh/client.js')
    const client = await prefix.ssh(vm)
    try {
      await execCapture(client, 'sync')
    } finally {
      client.end()
    }
  } catch (error) {
    if (options.signal?.aborted) throw error
    options.failed(errorMessage(error))
  }
}
