import path from 'node:path'
import {LagoError, isLagoError} from '../errors.js'
import type {EnvironmentSpec} from '../spec/types.js'
import {isImageReference, resolveImageTemplate, resolveTemplate, type ResolvedTemplate, type TemplateRepo} from './repo.js'
import type {TemplateStore} from './store.js'

export interface TemplateUse {
  vm: string
  disk: string
  resolved: ResolvedTemplate
}

export interface PlannedTemplate {
  template: ResolvedTemplate
  /** Older versions of the same template the store has, when this newest one is not stored yet. */
  newerThan: string[]
}

export interface TemplatePlan {
  uses: TemplateUse[]
  /** Each distinct template once. */
  templates: PlannedTemplate[]
}

/**
 * Resolve every template disk of an init file: repository templates (`name`, `name:version`,
 * `repo:name:version`) against `repo`, plain images (URL or path) by themselves. `loadRepo`
 * is called only when some disk needs the repository.
 */
export async function planTemplates(spec: EnvironmentSpec, loadRepo: () => Promise<TemplateRepo>, store: TemplateStore): Promise<TemplatePlan> {
  const disks = spec.domains.flatMap((d) => d.disks.map((disk, index) => ({vm: d.name, disk, index}))).filter((x) => x.disk.type === 'template')
  let repo: TemplateRepo | undefined
  const uses: TemplateUse[] = []
  for (const {vm, disk, index} of disks) {
    const where = `domains.${vm}.disks[${index}]`
    try {
      const name = disk.templateName!
      const resolved = isImageReference(name)
        ? await resolveImageTemplate(name, {checksum: disk.templateChecksum, baseDir: path.dirname(spec.source), where})
        : resolveTemplate((repo ??= await loadRepo()), name, disk.templateVersion)
      uses.push({vm, disk: disk.name, resolved})
    } catch (error) {
      if (isLagoError(error) && error.code === 'TEMPLATE') {
        throw new LagoError(error.code, `${spec.source}: ${where} (${disk.name}): ${error.message.replace(`${where}.`, '')}`, {hint: error.hint, detail: error.detail})
      }
      throw error
    }
  }
  const unique = [...new Map(uses.map((u) => [u.resolved.id, u.resolved])).values()]
  const templates: PlannedTemplate[] = []
  for (const template of unique) {
    let newerThan: string[] = []
    if (template.newest && template.repo && !(await store.get(template.id))) {
      const known = template.repo.templates[template.template].versions
      newerThan = (await store.versionsOf(template.repoName, template.template))
        .map((id) => id.split(':')[2])
        .filter((version) => (known[version]?.timestamp ?? Number.NEGATIVE_INFINITY) < (template.timestamp ?? 0))
    }
    templates.push({template, newerThan})
  }
  return {uses, templates}
}
