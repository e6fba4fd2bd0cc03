import type {Virsh} from './virsh.js'

/**
 * A domain's memory state in a file (`virsh save`, or the memory part of a live snapshot)
 * and the way back: `virsh restore` with the domain XML the file carries, its disks pointed
 * at where they are now (a revert gives them fresh overlays on the same frozen content).
 */

/** Save the running domain's memory and device state to `file`; the (transient) domain is gone afterwards. */
export async function saveDomain(virsh: Virsh, libvirtName: string, file: string): Promise<void> {
  await virsh.run(['save', libvirtName, file])
}

/** The domain XML stored in a save file; fails (LIBVIRT) when the file is not one libvirt can read. */
export async function savedDomainXml(virsh: Virsh, file: string): Promise<string> {
  return (await virsh.run(['save-image-dumpxml', file])).stdout
}

/** Start the domain again from `file` with `xmlFile` (ABI-compatible with the saved one); it runs on. */
export async function restoreDomain(virsh: Virsh, file: string, xmlFile: string, signal?: AbortSignal): Promise<void> {
  await virsh.run(['restore', file, '--xml', xmlFile, '--running'], {signal})
}

/**
 * The saved domain XML with each disk (by target dev) reading `sources`' file instead; the
 * backing chain libvirt recorded for the old file is dropped so it is probed afresh.
 */
export function withDiskSources(xml: string, sources: Map<string, string>): string {
  return xml.replace(/<disk\b[\s\S]*?<\/disk>/g, (disk) => {
    const dev = /<target\b[^>]*\bdev=(['"])(.*?)\1/.exec(disk)?.[2]
    const file = dev ? sources.get(dev) : undefined
    if (!file) return disk
    let edited = disk.replace(/<source\b[^>]*?\/>|<source\b[^>]*>[\s\S]*?<\/source>/, `<source file='${escapeAttribute(file)}'/>`)
    // Innermost first: backing chains nest.
    for (let previous = ''; previous !== edited;) {
      previous = edited
      edited = edited.replace(/\s*<backingStore\b[^>]*\/>|\s*<backingStore\b[^>]*>(?:(?!<backingStore\b)[\s\S])*?<\/backingStore>/, '')
    }
    return edited
  })
}

function escapeAttribute(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/'/g, '&apos;').replace(/"/g, '&quot;')
}

/**
 * Live snapshot with memory: disks switch to `overlays` (frozen files become restore points)
 * at the same instant the memory state is written to `memoryFile`; the domain runs on.
 */
export async function snapshotWithMemory(virsh: Virsh, libvirtName: string, name: string, memoryFile: string, diskSpecs: string[]): Promise<void> {
  await virsh.run(['snapshot-create-as', libvirtName, '--name', name, '--no-metadata', '--atomic', '--memspec', `file=${memoryFile.replaceAll(',', ',,')},snapshot=external`, ...diskSpecs])
}
