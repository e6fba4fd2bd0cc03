import path from 'node:path'
import type {LagoConfig} from '../config/config.js'
import {LagoError} from '../errors.js'
import type {RetryPolicy} from './http.js'
import {loadTemplateRepo, type TemplateRepo} from './repo.js'
import {TemplateRepoRegistry} from './repositories.js'
import {TemplateStore} from './store.js'

/** Where templates come from and go, as flags give them (each falls back to configuration). */
export interface TemplateSettings {
  /** --template-store */
  templateStore?: string
  /** --template-repo-path: repository JSON (file or URL) */
  templateRepoPath?: string
  /** --template-repo-name: a repository registered with `lago template-repo add` */
  templateRepoName?: string
  /** --template-repos: where registered repositories live */
  templateRepos?: string
}

export function openStore(config: LagoConfig, settings: TemplateSettings = {}): TemplateStore {
  return new TemplateStore(path.resolve(settings.templateStore ?? config.lago.template_store))
}

export function openRegistry(config: LagoConfig, settings: TemplateSettings = {}): TemplateRepoRegistry {
  return new TemplateRepoRegistry(path.resolve(settings.templateRepos ?? config.lago.template_repos))
}

export function retryPolicy(config: LagoConfig): RetryPolicy {
  return {retries: config.download.retries, backoffMs: config.download.backoff_ms, stallMs: config.download.stall_timeout * 1000}
}

/** The repository the settings name (path or URL first, then a registered name), or undefined when they name none. */
export async function loadSettingsRepo(config: LagoConfig, settings: TemplateSettings, options: {signal?: AbortSignal} = {}): Promise<TemplateRepo | undefined> {
  if (settings.templateRepoPath && settings.templateRepoName) {
    throw new LagoError('USAGE', 'Give either --template-repo-path or --template-repo-name, not both.')
  }
  if (settings.templateRepoPath) {
    return loadTemplateRepo(settings.templateRepoPath, {cacheDir: openStore(config, settings).repoCacheDir, signal: options.signal})
  }
  if (settings.templateRepoName) return openRegistry(config, settings).load(settings.templateRepoName)
  return undefined
}

/** The repository the settings name, or an error saying how to name one. */
export async function requireSettingsRepo(config: LagoConfig, settings: TemplateSettings, why: string, options: {signal?: AbortSignal} = {}): Promise<TemplateRepo> {
  const repo = await loadSettingsRepo(config, settings, options)
  if (repo) return repo
  const registered = await openRegistry(config, settings).list()
  throw new LagoError('TEMPLATE_REPO', `${why}, but no template repository was given.`, {
    hint:
      "Pass --template-repo-path REPO.json (a file or URL in Lago's repository format)" +
      (registered.length > 0 ? ` or --template-repo-name NAME (registered: ${registered.map((r) => r.name).join(', ')}).` : ', or register one with "lago template-repo add".'),
  })
}
