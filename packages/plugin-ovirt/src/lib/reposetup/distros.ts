import path from 'node:path'
import {LagoError, TemplateStore, isSafeName, type Prefix} from '@lago/core'

/**
 * The distro of each VM: its init-file metadata `distro`, else its first template's
 * metadata `distro` (as the original read it), else none.
 */
export async function vmDistros(prefix: Prefix): Promise<Map<string, string>> {
  const distros = new Map<string, string>()
  for (const vm of prefix.state.vms) {
    const own = vm.metadata.distro
    if (typeof own === 'string' && own) {
      distros.set(vm.name, checkDistro(own, `the init file's domains.${vm.name}.metadata.distro`))
      continue
    }
    const template = vm.disks.find((d) => d.template)?.template
    if (!template) continue
    const stored = await new TemplateStore(path.dirname(template.storePath)).get(path.basename(template.storePath))
    const distro = stored?.metadata.distro
    if (typeof distro === 'string' && distro) distros.set(vm.name, checkDistro(distro, `the metadata of template ${template.id} (${template.storePath}.metadata), field "distro"`))
  }
  return distros
}

/** A distro names a directory of the internal repository: one safe path component. */
function checkDistro(distro: string, where: string): string {
  if (isSafeName(distro)) return distro
  throw new LagoError('REPO', `${where}: ${JSON.stringify(distro)} is not a valid distro name (letters, digits, ".", "_", "-"; no "..").`, {
    detail: {distro, where},
  })
}
