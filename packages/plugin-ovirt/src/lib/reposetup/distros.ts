import {LagoError, distroOf, isSafeName, templateMetadata, type Prefix} from '@lago/core'

/**
 * The distro of each VM: its init-file metadata `distro`, else its first template's
 * metadata `distro` (as the original read it), else none.
 */
export async function vmDistros(prefix: Prefix): Promise<Map<string, string>> {
  const distros = new Map<string, string>()
  for (const vm of prefix.state.vms) {
    const template = await templateMetadata(vm)
    const distro = distroOf(vm, template)
    if (!distro) continue
    const own = vm.metadata.distro === distro
    const stored = vm.disks.find((d) => d.template)?.template
    const where = own ? `the init file's domains.${vm.name}.metadata.distro` : `the metadata of template ${stored?.id} (${stored?.storePath}.metadata), field "distro"`
    distros.set(vm.name, checkDistro(distro, where))
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
