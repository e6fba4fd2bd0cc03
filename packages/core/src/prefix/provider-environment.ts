import path from 'node:path'
import type {Provider, ProviderEnvironment} from '../providers/provider.js'
import {createProvider} from '../providers/registry.js'
import type {LagoConfig} from '../config/config.js'
import type {PrefixPaths} from './paths.js'
import type {PrefixState} from './state.js'

/** What a provider needs of a prefix: its identity, its state (read live), and where its files go. */
export function providerEnvironment(paths: PrefixPaths, state: PrefixState): ProviderEnvironment {
  return {
    id: state.id,
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
