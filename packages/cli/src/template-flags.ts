import {Flags} from '@oclif/core'
import type {TemplateSettings} from '@lago/core'

/** Flags that say where templates come from and are kept (init, template, template-repo). */
export const storeFlags = {
  'template-store': Flags.string({summary: 'Template store directory (default: template_store setting, /var/lib/lago/store).'}),
}

/** Flags of the verbs that download templates. */
export const downloadFlags = {
  'allow-unverified': Flags.boolean({summary: 'Store repository templates that publish no .hash (default: allow_unverified in [download]).'}),
}

export const reposDirFlags = {
  'template-repos': Flags.string({summary: 'Directory of registered template repositories (default: template_repos setting, /var/lib/lago/repos).'}),
}

export const repoFlags = {
  'template-repo-path': Flags.string({summary: 'Template repository JSON (file path or URL).', env: 'LAGO_TEMPLATE_REPO_PATH', exclusive: ['template-repo-name']}),
  'template-repo-name': Flags.string({summary: 'A template repository registered with "lago template-repo add".', exclusive: ['template-repo-path']}),
  ...reposDirFlags,
}

export function templateSettings(flags: {'template-store'?: string; 'template-repo-path'?: string; 'template-repo-name'?: string; 'template-repos'?: string}): TemplateSettings {
  return {
    templateStore: flags['template-store'],
    templateRepoPath: flags['template-repo-path'],
    templateRepoName: flags['template-repo-name'],
    templateRepos: flags['template-repos'],
  }
}
