import {distroOf, templateMetadata, type Prefix} from '@lago/core'

/**
 * The distro of each VM: its init-file metadata `distro`, else its first template's
 * metadata `distro` (as the original read it), else none.
 */
export async function vmDistros(prefix: Prefix): Promise<Map<string, string>> {
  const distros = new Map<string, string>()
  for (const vm of prefix.state.vms) {
    const distro = distroOf(vm, await templateMetadata(vm))
    if (distro) distros.set(vm.name, distro)
  }
  return distros
}
