import type {LagoConfig} from '../config/config.js'
import {LagoError} from '../errors.js'
import {globalRegistry} from '../util/global-registry.js'
import {libvirtAnywhereFactory} from './remote/provider.js'
import type {Provider, ProviderEnvironment, ProviderFactory} from './provider.js'

/**
 * Providers by name, registered like VM types: core registers `libvirt`; a plugin calls
 * registerProvider() when it loads. Kept on globalThis so a plugin that loads a second copy
 * of @lago/core still registers into the one the CLI reads.
 */
export const DEFAULT_PROVIDER = 'libvirt'

const providers = globalRegistry<ProviderFactory>('lago.providers', (factory) => factory.name, [libvirtAnywhereFactory])

/** Add a provider; registering the same name again replaces it (so twice is harmless). */
export const registerProvider = (factory: ProviderFactory): void => providers.add(factory)
export const registeredProviders = (): ProviderFactory[] => providers.all()
export const findProvider = (name: string): ProviderFactory | undefined => providers.find(name)

/** The provider named `name` (default: the `[lago] provider` setting), for `environment` when given. */
export function createProvider(config: LagoConfig, environment?: ProviderEnvironment, name: string = config.lago.provider || DEFAULT_PROVIDER): Provider {
  const factory = findProvider(name)
  if (!factory) {
    throw new LagoError('USAGE', `No provider named "${name}" is registered.`, {
      hint: `Providers: ${registeredProviders()
        .map((p) => p.name)
        .join(', ')}. Set [lago] provider in lago.conf (or LAGO__LAGO__PROVIDER), or install the plugin that provides "${name}".`,
      detail: {provider: name},
    })
  }
  return factory.create(config, environment)
}
