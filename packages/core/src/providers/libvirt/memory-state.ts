import {open} from 'node:fs/promises'
import {unlessAbsent} from '../../util/fs.js'
import type {Virsh} from './virsh.js'
import {escapeAttribute} from './xml-writer.js'

/**
 * A domain's memory state in a file (`virsh save`, or the memory part of a live snapshot)
 * and the way back: `virsh restore` with the domain XML the file carries, its disks pointed
 * at where they are now (a revert gives them fresh overlays on the same frozen content).
 */

/** Save the running domain's memory and device state to `file`; the (transient) domain is gone afterwards. */
export async function saveDomain(virsh: Virsh, libvirtName: string, file: string): Promise<void> {
  await virsh.run(['save', libvirtName, file])
}

/**
 * The domain XML stored in a save file; fails (LIBVIRT) when the file is not one libvirt can
 * read. With `here` (the file is on this host) it is read from the file's header, which
 * spares a virsh process on the way to a resume; libvirt is asked when that header is not
 * one this code knows (or the file is missing: libvirt says so). Any other failure to read
 * it names the file.
 */
export async function savedDomainXml(virsh: Virsh, file: string, here = false): Promise<string> {
  const fromHeader = here ? await unlessAbsent(headerDomainXml(file), file) : undefined
  return fromHeader ?? (await virsh.run(['save-image-dumpxml', file])).stdout
}

// libvirt's qemu save image (src/qemu/qemu_saveimage.h): a 16-byte magic, then uint32 version,
// data_len, was_running, compressed, cookieOffset and 14 unused, then the XML (NUL-ended).
const SAVE_MAGIC = 'LibvirtQemudSave'
const SAVE_VERSION = 2
const HEADER_BYTES = 16 + 19 * 4
const MAX_XML_BYTES = 16 << 20

/** The domain XML in the header of a version-2 save image written on a little-endian host; undefined for anything else. */
export async function headerDomainXml(file: string): Promise<string | undefined> {
  const handle = await open(file, 'r')
  try {
    const header = Buffer.alloc(HEADER_BYTES)
    if ((await handle.read(header, 0, HEADER_BYTES, 0)).bytesRead < HEADER_BYTES) return undefined
    if (header.toString('latin1', 0, SAVE_MAGIC.length) !== SAVE_MAGIC || header.readUInt32LE(16) !== SAVE_VERSION) return undefined
    const dataLength = header.readUInt32LE(20)
    const xmlLength = header.readUInt32LE(32) || dataLength
    if (xmlLength === 0 || xmlLength > dataLength || xmlLength > MAX_XML_BYTES) return undefined
    const data = Buffer.alloc(xmlLength)
    if ((await handle.read(data, 0, xmlLength, HEADER_BYTES)).bytesRead < xmlLength) return undefined
    const end = data.indexOf(0)
    if (end === -1) return undefined
    const xml = data.toString('utf8', 0, end)
    return /^<domain[\s>]/.test(xml) ? xml : undefined
  } finally {
    await handle.close()
  }
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

/**
 * Live snapshot with memory: disks switch to `overlays` (frozen files become restore points)
 * at the same instant the memory state is written to `memoryFile`; the domain runs on.
 */
export async function snapshotWithMemory(virsh: Virsh, libvirtName: string, name: string, memoryFile: string, diskSpecs: string[]): Promise<void> {
  await virsh.run(['snapshot-create-as', libvirtName, '--name', name, '--no-metadata', '--atomic', '--memspec', `file=${memoryFile.replaceAll(',', ',,')},snapshot=external`, ...diskSpecs])
}
