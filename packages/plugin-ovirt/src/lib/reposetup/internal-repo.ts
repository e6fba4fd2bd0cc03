import {copyFile, link, mkdir, readFile, rm, stat, writeFile} from 'node:fs/promises'
import path from 'node:path'
import {run} from '@lago/core'
import {readHeaders, type RpmHeader} from './rpm-files.js'

/** Where packages come from, in priority order: custom sources, then built RPMs, then synced repos. */
export interface PackageSource {
  label: string
  files: string[]
}

export interface ChosenPackage {
  name: string
  arch: string
  evr: string
  file: string
  source: string
}

export interface InternalRepoResult {
  dir: string
  packages: ChosenPackage[]
  /** Packages a higher-priority source provided, hiding the same name from a later one. */
  shadowed: {name: string; chosen: string; hidden: string}[]
  /** Same packages as last time: the metadata was kept. */
  reused: boolean
}

const MANIFEST = '.lago-manifest.json'

/**
 * Merge the sources into one yum repository at `dir`: for each package name the first
 * source providing it wins (so built RPMs take precedence over synced ones), within a
 * source the highest version; foreign arches and source RPMs are left out. Files are
 * hard-linked when possible; createrepo_c writes the metadata.
 */
export async function writeInternalRepo(dir: string, sources: PackageSource[], arches: string[], signal?: AbortSignal): Promise<InternalRepoResult> {
  const chosen = new Map<string, ChosenPackage>()
  const shadowed: InternalRepoResult['shadowed'] = []
  for (const source of sources) {
    const newest = await newestPerNameArch(
      (await readHeaders(source.files, signal)).filter((h) => arches.includes(h.arch)),
      signal,
    )
    const namesHere = new Set<string>()
    for (const header of newest) {
      const taken = [...chosen.values()].find((p) => p.name === header.name)
      if (taken && !namesHere.has(header.name)) {
        shadowed.push({name: header.name, chosen: taken.source, hidden: source.label})
        continue
      }
      namesHere.add(header.name)
      chosen.set(`${header.name}.${header.arch}`, {name: header.name, arch: header.arch, evr: evrOf(header), file: header.file, source: source.label})
    }
  }
  const packages = [...chosen.values()].sort((a, b) => a.file.localeCompare(b.file))
  const manifest = JSON.stringify(await Promise.all(packages.map(async (p) => [p.file, (await stat(p.file)).mtimeMs])))
  const previous = await readFile(path.join(dir, MANIFEST), 'utf8').catch(() => '')
  const hasMetadata = await stat(path.join(dir, 'repodata', 'repomd.xml')).then(
    () => true,
    () => false,
  )
  if (previous === manifest && hasMetadata) return {dir, packages, shadowed, reused: true}
  await rm(dir, {recursive: true, force: true})
  await mkdir(dir, {recursive: true})
  for (const p of packages) await linkOrCopy(p.file, path.join(dir, path.basename(p.file)))
  await run('createrepo_c', ['-q', dir], {signal})
  await writeFile(path.join(dir, MANIFEST), manifest)
  return {dir, packages, shadowed, reused: false}
}

function evrOf(h: RpmHeader): string {
  return `${h.epoch || '0'}:${h.version}-${h.release}`
}

/** The highest EVR of each name.arch (rpm's own comparison). */
async function newestPerNameArch(headers: RpmHeader[], signal?: AbortSignal): Promise<RpmHeader[]> {
  const best = new Map<string, RpmHeader>()
  for (const header of headers) {
    const key = `${header.name}.${header.arch}`
    const current = best.get(key)
    if (!current || (await rpmVercmp(evrOf(header), evrOf(current), signal)) > 0) best.set(key, header)
  }
  return [...best.values()]
}

async function rpmVercmp(a: string, b: string, signal?: AbortSignal): Promise<number> {
  if (a === b) return 0
  const {stdout} = await run('rpm', ['--eval', `%{lua: print(rpm.vercmp(${JSON.stringify(a)}, ${JSON.stringify(b)}))}`], {signal})
  return Number(stdout.trim())
}

async function linkOrCopy(from: string, to: string): Promise<void> {
  try {
    await link(from, to)
  } catch {
    await copyFile(from, to)
  }
}
