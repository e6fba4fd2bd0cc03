import {loadConfig, type LagoConfig, type LoadConfigOptions} from './config/config.js'
import {findPrefix} from './prefix/find.js'
import {Prefix} from './prefix/prefix.js'

export interface OpenPrefixOptions {
  /** Settings as the CLI would read them (system, user, LAGO_* environment) unless given. */
  config?: LagoConfig
  /** Overrides on top of the layered settings, e.g. {libvirt: {uri: ...}}. */
  overrides?: LoadConfigOptions['overrides']
  /** A prefix of a workdir (default: the one `current` points at). */
  prefixName?: string
}

/**
 * The SDK's entry point: the prefix at `location` (a prefix directory, a workdir, or any
 * directory inside one), ready to drive. Same lookup and settings as the CLI's --prefix-path.
 */
export async function openPrefix(location: string, options: OpenPrefixOptions = {}): Promise<Prefix> {
  const paths = await findPrefix(location, location, options.prefixName)
  return Prefix.open(paths, options.config ?? (await loadConfig({overrides: options.overrides})))
}
