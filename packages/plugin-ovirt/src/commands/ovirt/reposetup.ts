import {Flags} from '@oclif/core'
import {LagoCommand} from '@lago/cli'

export default class Reposetup extends LagoCommand {
  static changesPrefix = true
  static summary = 'Build the prefix internal repo: sync a yum config into the host-wide cache, build RPMs, merge custom sources.'
  static description = `Only sections of the yum file named "<anything>-<distro>" are used, for the distros of the
environment's VMs (their template metadata "distro", or "distro" in the VM's init-file metadata);
the others are skipped and listed. Priority for packages of the same name: --custom-source, then
--build, then synced repositories. The result is PREFIX/internal_repo/<distro>/.`

  static flags = {
    'reposync-yum-config': Flags.string({summary: 'yum .repo file whose repositories are synced (dnf reposync, newest only).'}),
    build: Flags.string({summary: 'Build RPMs from this spec file or source directory (mock when installed, else rpmbuild). Repeatable.', multiple: true, default: []}),
    'custom-source': Flags.string({summary: 'A directory of RPMs or an .rpm file to add, above everything else (also file:///DIR, dir:DIR). Repeatable.', multiple: true, default: []}),
    'skip-sync': Flags.boolean({summary: 'Use what the cache holds, without contacting the repositories.'}),
    'rpm-repo': Flags.string({summary: 'The host-wide reposync cache.', env: 'LAGO__OVIRT__REPOSYNC_DIR', default: '/var/lib/lago/reposync'}),
  }

  async run() {
    const {flags} = await this.parseLago(Reposetup)
    const prefix = await this.openPrefix(flags)
    const [{reposetupTasks}, {customSourcePath}] = await Promise.all([import('../../lib/reposetup/reposetup.js'), import('../../lib/reposetup/custom-source.js')])
    const {tasks, report} = await reposetupTasks(prefix, {
      yumConfig: flags['reposync-yum-config'],
      builds: flags.build,
      customSources: flags['custom-source'].map(customSourcePath),
      skipSync: flags['skip-sync'],
      cacheDir: flags['rpm-repo'],
    })
    const started = Date.now()
    await this.runTasks(tasks)
    if (!this.jsonEnabled()) {
      const {reposetupSummary} = await import('../../lib/reposetup/summary.js')
      this.log(reposetupSummary(report, (Date.now() - started) / 1000))
    }
    return report
  }
}
