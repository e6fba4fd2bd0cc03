import {Args, Flags} from '@oclif/core'
import {LagoCommand} from '../../base-command.js'
import {storeFlags, templateSettings} from '../../template-flags.js'

export default class GoldenShow extends LagoCommand {
  static summary = 'Show one golden environment: its VMs, disks, nets, where it was frozen from, which prefixes use it.'
  static description = '--verify re-hashes its description and every disk against the recorded hashes (exit 1 when one differs).'
  static examples = ['<%= config.bin %> golden show base:1', '<%= config.bin %> golden show base --verify --json']
  static args = {golden: Args.string({description: 'NAME or NAME:VERSION (default: the newest).', required: true})}
  static flags = {...storeFlags, verify: Flags.boolean({summary: 'Re-hash the description and the disks.'})}

  async run() {
    const {args, flags} = await this.parseLago(GoldenShow)
    const core = await import('@lago/core')
    const store = core.openStore(await this.loadConfig(), templateSettings(flags))
    const catalog = new core.GoldenCatalog(store)
    const entry = await catalog.require(core.parseGoldenRef(args.golden))
    const {goldenSummary} = await import('../../golden-view.js')
    const summary = await goldenSummary(store, entry)
    const problems = flags.verify ? await catalog.verify(entry) : undefined
    const {manifest} = entry
    if (!this.jsonEnabled()) {
      const lines = [
        `Golden environment ${summary.golden}`,
        `  description: ${entry.file} (${entry.hash})`,
        `  frozen:      ${manifest.createdAt} from ${manifest.source.prefix} (${manifest.capture === 'shut-down' ? 'guests shut down cleanly for it' : 'guests were down'})`,
        `  nets:        ${manifest.nets.map((n) => `${n.name} (${n.type}${n.management ? ', management' : ''})`).join(', ')}`,
      ]
      for (const vm of manifest.vms) {
        lines.push(
          `  ${vm.name}: ${vm.memory} MiB, ${vm.vcpu} vCPU, ${vm.vmType}; nics ${vm.nics.map((n) => `${n.net} .${n.octet}`).join(', ')}; deploy ${vm.deployed.ran ? 'ran' : 'not run'} (${vm.deployed.scripts.join(', ') || 'no scripts'})`,
        )
        for (const d of vm.disks) lines.push(`    ${d.name} (${d.dev}): ${d.id}, ${core.formatBytes(d.size)}, ${d.hash}${d.layeredOn ? `, layered on ${d.layeredOn}` : ', flattened'}`)
      }
      lines.push(`  used by:     ${summary.users.length > 0 ? summary.users.join(', ') : '(no prefix)'}`)
      if (problems) lines.push(problems.length === 0 ? '  verified:    description and every disk match their hashes' : `  NOT INTACT:\n${problems.map((p) => `    ${p}`).join('\n')}`)
      this.log(lines.join('\n'))
    }
    // Reported in full either way (--json too), then a failing exit status.
    if (problems && problems.length > 0) process.exitCode = 1
    return {...summary, description: entry.file, hash: entry.hash, manifest, ...(problems ? {verified: problems.length === 0, problems} : {})}
  }
}
