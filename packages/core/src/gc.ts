import {lstat, readFile} from 'node:fs/promises'
import path from 'node:path'
import {LagoError} from './errors.js'
import type {Provider} from './providers/provider.js'
import {PrefixPaths} from './prefix/paths.js'

export interface Orphan {
  kind: 'domain' | 'network'
  name: string
  prefixPath: string
}

/** A Lago-made object gc left alone, and why it could not prove the object orphaned and its own. */
export interface Spared extends Orphan {
  reason: string
}

export interface GcOptions {
  /** Also objects of prefixes other users own (root only). */
  allUsers?: boolean
  /** Told about each Lago object that is kept and why. */
  onSpared?: (spared: Spared) => void
}

/** The owner tag a Lago object carries, as read back from libvirt. */
export interface OwnerClaim {
  kind: Orphan['kind']
  name: string
  prefixId: string
  prefixPath: string
}

/** The file system calls the verdict uses (tests replace them to play EACCES as root). */
export interface GcFs {
  lstat: (file: string) => Promise<{uid: number}>
  readFile: (file: string) => Promise<string>
}

const REAL_FS: GcFs = {lstat, readFile: (file) => readFile(file, 'utf8')}

/**
 * Whether gc may remove an object: undefined when it is provably orphaned and the caller's to
 * remove, else the reason to keep it. Orphaned means its prefix's uuid file is definitely
 * absent (ENOENT; EACCES proves nothing) or holds another prefix's uuid. The caller's means
 * the nearest existing directory of the prefix path belongs to the caller (any with allUsers).
 */
export async function orphanVerdict(claim: OwnerClaim, caller: {uid: number; allUsers?: boolean}, fs: GcFs = REAL_FS): Promise<string | undefined> {
  if (!/^[0-9a-f]{8}$/.test(claim.prefixId) || !claim.name.startsWith(`lago-${claim.prefixId}-`) || !path.isAbsolute(claim.prefixPath)) {
    return `its owner tag (prefix id "${claim.prefixId}", path "${claim.prefixPath}") does not match its name`
  }
  const uuidFile = new PrefixPaths(claim.prefixPath).uuid
  try {
    const uuid = (await fs.readFile(uuidFile)).trim()
    if (uuid.slice(0, 8) === claim.prefixId) return `its prefix ${claim.prefixPath} still exists`
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code !== 'ENOENT') return `${uuidFile} cannot be read (${code ?? String(error)}), so the prefix may still exist`
  }
  if (caller.allUsers) return undefined
  let dir = claim.prefixPath
  for (;;) {
    try {
      const info = await fs.lstat(dir)
      return info.uid === caller.uid ? undefined : `${dir} belongs to uid ${info.uid}, not to you (root may pass --all-users)`
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (code !== 'ENOENT') return `${dir} cannot be examined (${code ?? String(error)})`
      if (path.dirname(dir) === dir) return 'no directory of its prefix path exists'
      dir = path.dirname(dir)
    }
  }
}

/** libvirt objects made by Lago (per their <metadata>) that are provably orphaned and the caller's to remove. */
export async function findOrphans(provider: Provider, options: GcOptions = {}): Promise<Orphan[]> {
  const uid = process.getuid?.() ?? -1
  if (options.allUsers && uid !== 0) {
    throw new LagoError('USAGE', "--all-users removes other users' objects: only root may pass it.", {hint: 'Run it as root, or leave --all-users out to collect your own.'})
  }
  const orphans: Orphan[] = []
  for (const claim of await provider.ownedObjects()) {
    const reason = await orphanVerdict(claim, {uid, allUsers: options.allUsers})
    const object = {kind: claim.kind, name: claim.name, prefixPath: claim.prefixPath}
    if (reason === undefined) orphans.push(object)
    else options.onSpared?.({...object, reason})
  }
  return orphans
}

/** Domains first, then networks (a running domain keeps its network busy). */
export async function removeOrphans(provider: Provider, orphans: Orphan[]): Promise<void> {
  for (const kind of ['domain', 'network'] as const) {
    for (const orphan of orphans.filter((o) => o.kind === kind)) await provider.removeObject(orphan)
  }
}
