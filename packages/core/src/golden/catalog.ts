import {mkdir, readdir, readFile, rm, rmdir} from 'node:fs/promises'
import path from 'node:path'
import {LagoError} from '../errors.js'
import type {DomainSpec, NetSpec} from '../spec/types.js'
import {fileDigest, formatDigest, parseDigest, textDigest} from '../templates/digest.js'
import type {TemplateStore} from '../templates/store.js'
import {readTextIfExists, unlessAbsent, writeFileAtomic} from '../util/fs.js'

/** Golden names and versions become parts of store file names (as template names do). */
const NAME = /^[A-Za-z0-9][A-Za-z0-9_+@-]*$/
const VERSION = /^[A-Za-z0-9][A-Za-z0-9._+@-]*$/

/** The repository name of frozen disks in the store: `golden:NAME.VM.DISK:VERSION`. */
export const GOLDEN_REPO = 'golden'

export interface GoldenRef {
  name: string
  /** Absent: the newest. */
  version?: string
}

/** `NAME` or `NAME:VERSION`, checked. */
export function parseGoldenRef(text: string, what = 'Golden environment'): GoldenRef {
  const [name, version, ...rest] = text.split(':')
  if (rest.length > 0 || !NAME.test(name) || (version !== undefined && !VERSION.test(version))) {
    throw new LagoError('USAGE', `${what} ${JSON.stringify(text)} is not NAME or NAME:VERSION (NAME: letters, digits, "_", "+", "@", "-"; VERSION may also hold ".").`, {
      detail: {value: text},
    })
  }
  return version === undefined ? {name} : {name, version}
}

export function formatGoldenRef(ref: GoldenRef): string {
  return ref.version === undefined ? ref.name : `${ref.name}:${ref.version}`
}

/** The template name one VM disk of a golden environment has in the store and in published repositories. */
export function goldenDiskTemplate(name: string, vm: string, disk: string): string {
  return `${name}.${vm}.${disk}`
}

/** A frozen disk: a store entry (`id`), flattened or layered on the template the VM's disk came from. */
export interface GoldenDisk {
  name: string
  dev: string
  /** Store id of the frozen image. */
  id: string
  /** Template name and version of the frozen image (in its repository; for publishing). */
  template: string
  version: string
  hash: string
  size: number
  /** The template the prefix's disk was an overlay of, if any. */
  from?: string
  /** The store id the frozen image is a thin layer on (absent: flattened, self-contained). */
  layeredOn?: string
}

export interface GoldenNic {
  net: string
  /** The last octet: the address keeps it in whatever subnet a copy leases. */
  octet: number
  /** The address in the frozen environment (for people). */
  frozenIp: string
}

export interface GoldenVm extends Omit<DomainSpec, 'nics' | 'disks' | 'deployScripts'> {
  nics: GoldenNic[]
  disks: GoldenDisk[]
  /** The deploy scripts that were part of the prefix (their work is in the disks) and whether a deploy ran. */
  deployed: {scripts: string[]; ran: boolean}
}

/** Everything `lago init --from` needs to stamp out a copy of a frozen environment. */
export interface GoldenManifest {
  format: 1
  name: string
  version: string
  createdAt: string
  /** Where it was frozen from. */
  source: {prefix: string; uuid: string; initFile: string}
  /** How consistent disks were obtained: the VMs were down already, or were shut down for the freeze. */
  capture: 'stopped' | 'shut-down'
  nets: (NetSpec & {leased: boolean})[]
  vms: GoldenVm[]
}

/** A golden environment as the store holds it. */
export interface GoldenEntry {
  manifest: GoldenManifest
  /** The description file and its hash. */
  file: string
  hash: string
}

/**
 * The golden environments of a template store: `STORE/.golden/NAME/VERSION.json` (the
 * description) with `VERSION.json.hash`; their disks are ordinary store entries. The
 * description is written last, so a golden is visible only once all its disks are stored.
 */
export class GoldenCatalog {
  constructor(readonly store: TemplateStore) {}

  get dir(): string {
    return path.join(this.store.dir, '.golden')
  }

  file(name: string, version: string): string {
    parseGoldenRef(`${name}:${version}`)
    return path.join(this.dir, name, `${version}.json`)
  }

  /** The store lock that serializes freezing, pulling and removing versions of `name`. */
  lockId(name: string): string {
    return `${GOLDEN_REPO}:${name}`
  }

  async versions(name: string): Promise<string[]> {
    const names = (await unlessAbsent(readdir(path.join(this.dir, name)), path.join(this.dir, name), 'list')) ?? []
    return names.filter((n) => n.endsWith('.json') && !n.startsWith('.')).map((n) => n.slice(0, -'.json'.length))
  }

  async names(): Promise<string[]> {
    const names = (await unlessAbsent(readdir(this.dir, {withFileTypes: true}), this.dir, 'list')) ?? []
    return names.filter((d) => d.isDirectory() && NAME.test(d.name)).map((d) => d.name)
  }

  async get(name: string, version: string): Promise<GoldenEntry | undefined> {
    const file = this.file(name, version)
    const text = await readTextIfExists(file)
    if (text === undefined) return undefined
    const hash = (await readTextIfExists(`${file}.hash`))?.trim() ?? ''
    let manifest: GoldenManifest
    try {
      manifest = JSON.parse(text) as GoldenManifest
    } catch (error) {
      throw new LagoError('TEMPLATE', `Golden environment description ${file} is not valid JSON (${(error as Error).message}).`, {detail: {file}})
    }
    if (manifest.format !== 1 || manifest.name !== name || manifest.version !== version || !Array.isArray(manifest.vms) || !Array.isArray(manifest.nets)) {
      throw new LagoError('TEMPLATE', `Golden environment description ${file} does not describe ${name}:${version} in format 1.`, {detail: {file}})
    }
    return {manifest, file, hash}
  }

  /** Every golden environment, newest first within a name. */
  async list(): Promise<GoldenEntry[]> {
    const entries: GoldenEntry[] = []
    for (const name of (await this.names()).sort()) {
      const found = await Promise.all((await this.versions(name)).map((v) => this.get(name, v)))
      entries.push(...found.filter((e): e is GoldenEntry => e !== undefined).sort(newestFirst))
    }
    return entries
  }

  /** The named version, or the newest; an error naming what exists otherwise. */
  async require(ref: GoldenRef): Promise<GoldenEntry> {
    const all = (await this.list()).filter((e) => e.manifest.name === ref.name)
    const entry = ref.version === undefined ? all[0] : all.find((e) => e.manifest.version === ref.version)
    if (entry) return entry
    const known = (await this.list()).map((e) => `${e.manifest.name}:${e.manifest.version}`)
    throw new LagoError('TEMPLATE', `No golden environment ${formatGoldenRef(ref)} in the template store ${this.store.dir}.`, {
      hint: known.length > 0 ? `It holds: ${known.join(', ')}.` : 'Make one with "lago freeze NAME" in a provisioned prefix, or fetch one with "lago golden pull NAME --template-repo-path REPO".',
      detail: {golden: formatGoldenRef(ref), store: this.store.dir, available: known},
    })
  }

  /** The next free numeric version of `name` ("1", "2", ...). Call under the name's lock. */
  async nextVersion(name: string): Promise<string> {
    const numbers = (await this.versions(name)).map(Number).filter((n) => Number.isInteger(n))
    return String(Math.max(0, ...numbers) + 1)
  }

  /** Write the description (the golden becomes visible). Call under the name's lock, after its disks are stored. */
  async write(manifest: GoldenManifest): Promise<GoldenEntry> {
    const file = this.file(manifest.name, manifest.version)
    await mkdir(path.dirname(file), {recursive: true})
    const text = `${JSON.stringify(manifest, null, 2)}\n`
    const hash = formatDigest(textDigest(text))
    await writeFileAtomic(`${file}.hash`, `${hash}\n`, 0o444)
    await writeFileAtomic(file, text, 0o444)
    return {manifest, file, hash}
  }

  async remove(name: string, version: string): Promise<void> {
    const file = this.file(name, version)
    await rm(file, {force: true})
    await rm(`${file}.hash`, {force: true})
    // The name's directory goes with its last version.
    await rmdir(path.dirname(file)).catch(() => undefined)
  }

  /** Problems found re-hashing the description and every disk (empty: intact). */
  async verify(entry: GoldenEntry): Promise<string[]> {
    const problems: string[] = []
    const text = await readFile(entry.file)
    if (!entry.hash) problems.push(`${entry.file}: no .hash beside it`)
    else {
      const recorded = parseDigest(entry.hash, `${entry.file}.hash`)
      const actual = formatDigest(textDigest(text, recorded.algorithm))
      if (formatDigest(recorded) !== actual) problems.push(`${entry.file}: its hash is ${actual}, ${entry.hash} was recorded`)
    }
    for (const disk of entry.manifest.vms.flatMap((vm) => vm.disks.map((d) => ({vm: vm.name, ...d})))) {
      const stored = await this.store.get(disk.id)
      if (!stored) {
        problems.push(`${disk.vm}/${disk.name}: store entry ${disk.id} is missing`)
        continue
      }
      const digest = await fileDigest(stored.path, parseDigest(disk.hash, disk.id).algorithm)
      if (formatDigest(digest) !== disk.hash) problems.push(`${disk.vm}/${disk.name}: ${stored.path} hashes to ${formatDigest(digest)}, ${disk.hash} was recorded`)
      if (disk.layeredOn && !(await this.store.get(disk.layeredOn))) problems.push(`${disk.vm}/${disk.name}: the template it is layered on, ${disk.layeredOn}, is missing`)
    }
    return problems
  }
}

function newestFirst(a: GoldenEntry, b: GoldenEntry): number {
  return b.manifest.createdAt.localeCompare(a.manifest.createdAt)
}

/** Store ids of a golden's disks and the templates they are layered on. */
export function goldenStoreIds(manifest: GoldenManifest): {disks: string[]; bases: string[]} {
  const disks = manifest.vms.flatMap((vm) => vm.disks)
  return {disks: disks.map((d) => d.id), bases: [...new Set(disks.flatMap((d) => (d.layeredOn ? [d.layeredOn] : [])))]}
}
