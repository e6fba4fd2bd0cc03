import path from 'node:path'
import {nodeModule, ownCli, readJson, userPlugins, type LaunchedCli} from '../fast-path.js'

/** A command as its plugin's oclif manifest describes it. */
export interface ManifestCommand {
  id: string
  flags: Record<string, {type: string; char?: string; aliases?: string[]; exclusive?: string[]}>
}

interface PluginPackage {
  name: string
  oclif?: {bin?: string; plugins?: string[]; hooks?: Record<string, unknown>}
}

/** What the lean path needs of this installation. */
export interface Installation {
  /** The command's name (oclif's `bin`). */
  bin: string
  commands: ManifestCommand[]
  /** The init hooks of this project's plugins (module files): the lean path runs them as oclif would, with the verb's id and argv. */
  initHooks: string[]
}

/** Hooks that would run before a command; a plugin with these may change what any verb does. */
const COMMAND_HOOKS = ['init', 'prerun']

/**
 * Every command of this installation (the CLI, its core plugins, the user's linked or installed
 * plugins) from the manifests oclif itself reads, and this project's init hooks; undefined when
 * a manifest is missing, or when a plugin outside this project hooks into every command (only
 * oclif can run that hook).
 */
export function installation(env: NodeJS.ProcessEnv = process.env, cli: LaunchedCli | undefined = ownCli()): Installation | undefined {
  if (!cli) return undefined
  const roots = [cli.root, ...(cli.pjson.oclif?.plugins ?? []).map((name) => nodeModule(name, cli.root))]
  for (const plugin of userPlugins(env)) roots.push(plugin.root)
  const commands: ManifestCommand[] = []
  const initHooks: string[] = []
  for (const root of roots) {
    if (!root) return undefined
    const pkg = readJson<PluginPackage>(path.join(root, 'package.json'))
    const manifest = readJson<{commands?: Record<string, ManifestCommand>}>(path.join(root, 'oclif.manifest.json'))
    if (!pkg || !manifest?.commands) return undefined
    const hooks = pkg.oclif?.hooks ?? {}
    if (COMMAND_HOOKS.some((hook) => hooks[hook] !== undefined)) {
      if (!ownPlugin(pkg.name) || hooks.prerun !== undefined) return undefined
      const init = hooks.init
      if (typeof init !== 'string') return undefined
      initHooks.push(path.resolve(root, init))
    }
    commands.push(...Object.values(manifest.commands))
  }
  return {bin: cli.pjson.oclif?.bin ?? 'lago', commands, initHooks}
}

/** This project's plugins: their init hooks only register host checks and VM types by the verb's id (see plugin-ovirt's hooks/init.ts). */
function ownPlugin(name: string): boolean {
  return name.startsWith('@lago/')
}
