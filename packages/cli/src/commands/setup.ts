import {Flags} from '@oclif/core'
import {LagoCommand} from '../base-command.js'

export default class Setup extends LagoCommand {
  static summary = 'Prepare this host for Lago (as root): group, shared directories, polkit rule, libvirtd, users; in rootless mode, your own directories and what else is missing.'
  static description =
    'Creates the lago group and the store, repos and subnet directories (root:lago, mode 3775: setgid + sticky), installs a polkit rule letting the group use the ' +
    'system libvirt, enables and starts libvirtd with systemd (or says how to start it without), and adds --user to the group. ' +
    'Paths come from the configuration (template_store, template_repos, lease_dir, polkit_rules_dir, group). Safe to run again: ' +
    'it only does what is missing. In session (rootless) mode it makes your own store, repos and lease directories, without root, and lists what else the mode needs.'

  static examples = ['sudo <%= config.bin %> setup --user "$USER"', '<%= config.bin %> setup --dry-run']

  static flags = {
    user: Flags.string({summary: 'Add this user to the lago group (takes effect at their next login).'}),
    'dry-run': Flags.boolean({summary: 'Only print what would be done, as commands.'}),
  }

  async run() {
    const {flags} = await this.parseLago(Setup)
    const {planSetup, applySetup} = await import('@lago/core')
    const config = await this.loadConfig()
    const steps = await planSetup({config, user: flags.user})
    const dryRun = flags['dry-run']
    const todo = steps.filter((s) => s.state === 'todo')
    const print = (line: string) => !this.jsonEnabled() && this.log(line)
    for (const step of steps.filter((s) => s.state !== 'todo')) {
      print(step.state === 'done' ? `✔ ${step.title}` : `! ${step.title}:\n${indent(step.commands)}`)
    }
    if (dryRun) {
      for (const step of todo) print(`→ ${step.title}: would run\n${indent(step.commands)}`)
    } else {
      await applySetup(steps, (step) => print(`+ ${step.title}\n${indent(step.commands)}`))
    }
    if (todo.length === 0) print('Nothing to do: this host is set up for Lago.')
    else if (dryRun) print(`${todo.length} step${todo.length === 1 ? '' : 's'} to do: run "lago setup"${todo.every((s) => s.asUser) ? '' : ' as root'} without --dry-run.`)
    else print(`Done: ${todo.length} step${todo.length === 1 ? '' : 's'} applied.${todo.some((s) => s.id === 'user') ? ' The user must log in again for the group to count.' : ''}`)
    return {
      dryRun,
      steps: steps.map(({id, title, state, commands}) => ({id, title, state, commands})),
      applied: dryRun ? [] : todo.map((s) => s.id),
    }
  }
}

function indent(commands: string[]): string {
  return commands.map((c) => c.replace(/^/gm, '    ')).join('\n')
}
