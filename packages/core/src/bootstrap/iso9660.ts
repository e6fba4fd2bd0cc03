/**
 * A minimal ISO 9660 image writer with Joliet names: one root directory of small files, which is
 * all a cloud-init NoCloud seed is. Written in-process because spawning genisoimage per VM cost
 * more than the rest of `init` put together (ECMA-119 and the Joliet specification describe
 * the layout below).
 */

export interface IsoFile {
  /** Name as the guest sees it (Joliet): up to 64 characters, no slash. */
  name: string
  data: Buffer
}

const SECTOR = 2048
const FIRST_DESCRIPTOR = 16

interface Extent {
  sector: number
  size: number
}

/** Layout: descriptors (PVD, Joliet SVD, terminator), path tables, root directories, file data. */
export function buildIso9660(volumeId: string, files: IsoFile[], now = new Date()): Buffer {
  for (const file of files) {
    if (!file.name || file.name.length > 64 || file.name.includes('/')) throw new Error(`ISO 9660: invalid file name ${JSON.stringify(file.name)}`)
  }
  const sorted = [...files].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  const primaryNames = shortNames(sorted.map((f) => f.name))
  const pathTables = {primaryL: 19, primaryM: 20, jolietL: 21, jolietM: 22}
  const primaryRoot: Extent = {sector: 23, size: SECTOR}
  const jolietRoot: Extent = {sector: 24, size: SECTOR}
  let next = 25
  const extents = sorted.map((file) => {
    const extent = {sector: next, size: file.data.length}
    next += Math.max(1, Math.ceil(file.data.length / SECTOR))
    return extent
  })
  const image = Buffer.alloc(next * SECTOR)
  const at = (sector: number) => image.subarray(sector * SECTOR, (sector + 1) * SECTOR)

  const volume = {volumeId, totalSectors: next, now}
  writeVolumeDescriptor(at(FIRST_DESCRIPTOR), {...volume, type: 1, root: primaryRoot, pathTableL: pathTables.primaryL, pathTableM: pathTables.primaryM, joliet: false})
  writeVolumeDescriptor(at(FIRST_DESCRIPTOR + 1), {...volume, type: 2, root: jolietRoot, pathTableL: pathTables.jolietL, pathTableM: pathTables.jolietM, joliet: true})
  const terminator = at(FIRST_DESCRIPTOR + 2)
  terminator[0] = 255
  terminator.write('CD001', 1, 'ascii')
  terminator[6] = 1

  writePathTable(at(pathTables.primaryL), primaryRoot.sector, 'LE')
  writePathTable(at(pathTables.primaryM), primaryRoot.sector, 'BE')
  writePathTable(at(pathTables.jolietL), jolietRoot.sector, 'LE')
  writePathTable(at(pathTables.jolietM), jolietRoot.sector, 'BE')

  writeDirectory(
    at(primaryRoot.sector),
    primaryRoot,
    sorted.map((_, i) => ({id: Buffer.from(`${primaryNames[i]};1`, 'ascii'), extent: extents[i]})),
    now,
  )
  writeDirectory(
    at(jolietRoot.sector),
    jolietRoot,
    sorted.map((file, i) => ({id: ucs2(file.name), extent: extents[i]})),
    now,
  )
  sorted.forEach((file, i) => file.data.copy(image, extents[i].sector * SECTOR))
  return image
}

interface Descriptor {
  type: 1 | 2
  volumeId: string
  totalSectors: number
  root: Extent
  pathTableL: number
  pathTableM: number
  joliet: boolean
  now: Date
}

function writeVolumeDescriptor(sector: Buffer, d: Descriptor): void {
  sector[0] = d.type
  sector.write('CD001', 1, 'ascii')
  sector[6] = 1
  const text = (offset: number, length: number, value: string) => {
    if (d.joliet) ucs2Padded(value, length).copy(sector, offset)
    else sector.write(value.padEnd(length, ' ').slice(0, length), offset, 'ascii')
  }
  text(8, 32, '')
  text(40, 32, d.volumeId)
  bothEndian32(sector, 80, d.totalSectors)
  if (d.joliet) sector.write('%/E', 88, 'ascii') // UCS-2 level 3
  bothEndian16(sector, 120, 1)
  bothEndian16(sector, 124, 1)
  bothEndian16(sector, 128, SECTOR)
  bothEndian32(sector, 132, PATH_TABLE_SIZE)
  sector.writeUInt32LE(d.pathTableL, 140)
  sector.writeUInt32BE(d.pathTableM, 148)
  directoryRecord(Buffer.from([0]), d.root, true, d.now).copy(sector, 156)
  for (const [offset, length] of [
    [190, 128],
    [318, 128],
    [446, 128],
    [574, 128],
    [702, 37],
    [739, 37],
    [776, 37],
  ])
    text(offset, length, '')
  const stamp = longDate(d.now)
  stamp.copy(sector, 813)
  stamp.copy(sector, 830)
  sector.write('0000000000000000', 847, 'ascii')
  stamp.copy(sector, 864)
  sector[881] = 1
}

const PATH_TABLE_SIZE = 10

/** A path table with the root directory only. */
function writePathTable(sector: Buffer, rootSector: number, endian: 'LE' | 'BE'): void {
  sector[0] = 1
  if (endian === 'LE') {
    sector.writeUInt32LE(rootSector, 2)
    sector.writeUInt16LE(1, 6)
  } else {
    sector.writeUInt32BE(rootSector, 2)
    sector.writeUInt16BE(1, 6)
  }
}

function writeDirectory(sector: Buffer, self: Extent, entries: Array<{id: Buffer; extent: Extent}>, now: Date): void {
  const records = [directoryRecord(Buffer.from([0]), self, true, now), directoryRecord(Buffer.from([1]), self, true, now)]
  for (const entry of entries) records.push(directoryRecord(entry.id, entry.extent, false, now))
  const all = Buffer.concat(records)
  if (all.length > SECTOR) throw new Error('ISO 9660: too many files for one directory sector')
  all.copy(sector)
}

function directoryRecord(id: Buffer, extent: Extent, directory: boolean, now: Date): Buffer {
  const length = 33 + id.length + (id.length % 2 === 0 ? 1 : 0)
  const record = Buffer.alloc(length)
  record[0] = length
  bothEndian32(record, 2, extent.sector)
  bothEndian32(record, 10, extent.size)
  shortDate(now).copy(record, 18)
  record[25] = directory ? 2 : 0
  bothEndian16(record, 28, 1)
  record[32] = id.length
  id.copy(record, 33)
  return record
}

/** 8.3 upper-case d-character names for readers without Joliet, unique within the directory. */
function shortNames(names: string[]): string[] {
  const used = new Set<string>()
  return names.map((name, index) => {
    const [stem, ...rest] = name.toUpperCase().split('.')
    const clean = (value: string) => value.replace(/[^A-Z0-9_]/g, '_')
    let base = clean(stem).slice(0, 8) || '_'
    const extension = clean(rest.join('_')).slice(0, 3)
    if (used.has(`${base}.${extension}`)) base = `${base.slice(0, 4)}${String(index).padStart(4, '0')}`
    used.add(`${base}.${extension}`)
    return `${base}.${extension}`
  })
}

function ucs2(value: string): Buffer {
  const buffer = Buffer.from(value, 'utf16le')
  return buffer.swap16()
}

function ucs2Padded(value: string, length: number): Buffer {
  return ucs2(value.padEnd(length / 2, ' ').slice(0, length / 2))
}

function bothEndian16(buffer: Buffer, offset: number, value: number): void {
  buffer.writeUInt16LE(value, offset)
  buffer.writeUInt16BE(value, offset + 2)
}

function bothEndian32(buffer: Buffer, offset: number, value: number): void {
  buffer.writeUInt32LE(value, offset)
  buffer.writeUInt32BE(value, offset + 4)
}

/** "YYYYMMDDHHMMSScc" + GMT offset, in UTC. */
function longDate(date: Date): Buffer {
  const pad = (n: number, width = 2) => String(n).padStart(width, '0')
  const digits = pad(date.getUTCFullYear(), 4) + pad(date.getUTCMonth() + 1) + pad(date.getUTCDate()) + pad(date.getUTCHours()) + pad(date.getUTCMinutes()) + pad(date.getUTCSeconds()) + '00'
  return Buffer.concat([Buffer.from(digits, 'ascii'), Buffer.from([0])])
}

function shortDate(date: Date): Buffer {
  return Buffer.from([date.getUTCFullYear() - 1900, date.getUTCMonth() + 1, date.getUTCDate(), date.getUTCHours(), date.getUTCMinutes(), date.getUTCSeconds(), 0])
}
