import type {Prefix, PrefixStatus} from '@lago/core/prefix'

/**
 * `lago stop [VM...] [--save]`: save each running VM's memory first (with --save), then power
 * off; the status to print with --json. Run by oclif's command and by the lean launcher.
 * With --save the saved VMs' networks stay up, so that the next start only restores the VMs.
 */
export async function stopVerb(prefix: Prefix, vms: string[], options: {save: boolean; json: boolean; signal: AbortSignal}): Promise<PrefixStatus | undefined> {
  if (options.save) {
    const {saveVms} = await import('@lago/core/prefix')
    const saved = await saveVms(prefix, vms.length > 0 ? vms.map((n) => prefix.vm(n)) : prefix.state.vms, options.signal)
    if (!options.json && saved.length > 0) process.stdout.write(`Saved ${saved.join(', ')}: "lago start" resumes ${saved.length === 1 ? 'it' : 'them'}.\n`)
  }
  await prefix.stop(vms, {keepSavedNetworks: options.save})
  return options.json ? prefix.status() : undefined
}
