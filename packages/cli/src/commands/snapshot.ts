import {Args, Flags} from '@oclif/core'
import {LagoCommand} from '../base-command.js'
import {formatValue, outFormatFlag} from '../output-format.js'

export default class Snapshot extends LagoCommand {
  static changesPrefix = true
  static summary = 'Snapshot every VM of the environment (running or stopped) under one name, or list snapshots.'
  static description = "With --list, --out-format default, json, yaml and flat print the original Lago's {VM: {SNAPSHOT: [{path}]}}."
  static args = {name: Args.string({description: 'Snapshot name.'})}
  static flags = {list: Flags.boolean({char: 'l', summary: 'List the snapshots.'}), 'out-format': outFormatFlag}

  async run() {
    const {args, flags} = await this.parseLago(Snapshot)
    const prefix = await this.openPrefix(flags)
    const core = await import('@lago/core')
    if (flags.list) {
      const snapshots = prefix.state.snapshots ?? {}
      const format = flags['out-format']
      if (this.jsonEnabled()) return {snapshots}
      if (format === 'table') for (const [name, s] of Object.entries(snapshots)) this.log(`${name}\t${s.createdAt}`)
      else this.log(await formatValue(originalSnapshots(prefix, snapshots), format))
      return {snapshots}
    }
    if (!args.name) throw new core.LagoError('USAGE', 'No snapshot name given.', {hint: 'Run "lago snapshot NAME", or "lago snapshot --list".'})
    const snapshot = await core.createSnapshot(prefix, args.name, this.abort.signal)
    if (!this.jsonEnabled()) this.log(`Snapshot "${args.name}" of ${Object.keys(snapshot.vms).join(', ')}.`)
    return {name: args.name, ...snapshot}
  }
}

/** The original's snapshot listing: per VM, per snapshot, its disks. */
function originalSnapshots(prefix: import('@lago/core').Prefix, snapshots: NonNullable<import('@lago/core').Prefix['state']['snapshots']>) {
  const byVm: Record<string, Record<string, {name: string; path: string}[]>> = {}
  for (const vm of prefix.state.vms) byVm[vm.name] = {}
  for (const [name, snapshot] of Object.entries(snapshots)) {
    for (const [vm, {disks}] of Object.entries(snapshot.vms)) {
      ;(byVm[vm] ??= {})[name] = Object.entries(disks).map(([disk, file]) => ({name: disk, path: prefix.paths.resolve(file)}))
    }
  }
  return byVm
}
