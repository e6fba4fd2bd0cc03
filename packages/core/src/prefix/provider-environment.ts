import path from 'node:path'
import type {Provider, ProviderEnvironment} from '../providers/provider.js'
import {createProvider} from '../providers/registry.js'
import type {LagoConfig} from '../config/config.js'
import {readTextIfExists} from '../util/fs.js'
import type {PrefixPaths} from './paths.js'
import type {PrefixState} from './state.js'

/** What a provider needs of a prefix: its identity, its state (read live), and where its files go. */
export function providerEnvironment(paths: PrefixPaths, state: PrefixState): ProviderEnvironment {
  return {
    id: state.id,
    uuid: state.uuid,
    root: paths.root,
    state,
    definitionsDir: path.join(paths.stateDir, 'libvirt'),
    resolve: (file) => paths.resolve(file),
    consoleLog: (vm) => paths.consoleLog(vm),
  }
}

/** The provider of this prefix: the one its state names (recorded at init), else the setting's. */
export function prefixProvider(config: LagoConfig, paths: PrefixPaths, state: PrefixState): Provider {
  return createProvider(config, providerEnvironment(paths, state), state.provider)
}

/** The provider of a prefix known only by its uuid (its state may be gone): for its files, not its VMs. */
export function bareProvider(paths: PrefixPaths, config: LagoConfig, uuid: string): Provider {
  return prefixProvider(config, paths, {version: 1, uuid, id: uuid.slice(0, 8), createdAt: '', initFile: '', nets: [], vms: []})
}

/** Remove a prefix's files on its hypervisor (a remote host's disks and seeds). */
export async function removeHypervisorFiles(paths: PrefixPaths, config: LagoConfig, uuid: string): Promise<void> {
  await bareProvider(paths, config, uuid).removeFiles?.()
}

/**
 * The hypervisor a prefix's objects live on, for verbs that work without its state (cleanup,
 * destroy and recovery of a prefix whose state is unreadable): the provider the state names
 * when it can be read, else the setting's.
 */
export async function prefixHypervisor(config: LagoConfig, paths: PrefixPaths): Promise<Provider> {
  let recorded: string | undefined
  const text = (await readTextIfExists(paths.state)) ?? '{}'
  try {
    const state = JSON.parse(text) as {provider?: unknown}
    if (typeof state.provider === 'string') recorded = state.provider
  } catch {
    // Corrupt state: the setting's provider it is.
  }
  return createProvider(config, undefined, recorded)
}
