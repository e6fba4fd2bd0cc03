import {readlink} from 'node:fs/promises'
import path from 'node:path'
import {LagoError} from '../errors.js'
import {pathExists, unlessAbsent} from '../util/fs.js'
import {PrefixPaths, STATE_DIR_NAME} from './paths.js'

/**
 * The prefix a command acts on: `--prefix-path` when given, else the nearest directory
 * from `cwd` upward that is a prefix (has .lago/uuid) or holds a workdir (.lago/current).
 */
export async function findPrefix(cwd: string, explicit?: string, prefixName?: string): Promise<PrefixPaths> {
  if (prefixName && prefixName !== 'current') {
    const {Workdir} = await import('./workdir.js')
    const workdir = await Workdir.find(cwd, explicit)
    const paths = workdir.prefixPaths(prefixName)
    if (await pathExists(paths.uuid)) return paths
    throw new LagoError('NO_PREFIX', `No prefix "${prefixName}" in workdir ${workdir.dir}.`, {
      hint: `Prefixes: ${(await workdir.prefixes()).join(', ') || '(none)'}.`,
    })
  }
  if (explicit) {
    const paths = new PrefixPaths(explicit)
    if (await pathExists(paths.uuid)) return paths
    const workdirPrefix = (await currentOfWorkdir(paths.root)) ?? (await currentOfWorkdir(path.join(paths.root, STATE_DIR_NAME)))
    if (workdirPrefix) return workdirPrefix
    throw new LagoError('NO_PREFIX', `${paths.root} is not a Lago prefix (no ${paths.uuid}).`, {
      hint: 'Give the directory you passed to "lago init", or create one with "lago init PREFIX INIT_FILE".',
    })
  }
  let dir = path.resolve(cwd)
  for (;;) {
    const paths = new PrefixPaths(dir)
    if (await pathExists(paths.uuid)) return paths
    const workdirPrefix = (await currentOfWorkdir(dir)) ?? (await currentOfWorkdir(paths.stateDir))
    if (workdirPrefix) return workdirPrefix
    const parent = path.dirname(dir)
    if (parent === dir) break
    dir = parent
  }
  throw new LagoError('NO_PREFIX', `Not inside a Lago prefix: neither ${path.resolve(cwd)} nor any directory above it is one.`, {
    hint: 'cd into the directory you passed to "lago init", or pass --prefix-path PREFIX.',
  })
}

/** The prefix `current` points at in a workdir (a directory with a `current` link). */
async function currentOfWorkdir(workdir: string): Promise<PrefixPaths | undefined> {
  const link = path.join(workdir, 'current')
  const target = await unlessAbsent(readlink(link), link, 'read the link')
  if (!target) return undefined
  const prefix = new PrefixPaths(path.resolve(workdir, target))
  return (await pathExists(prefix.uuid)) ? prefix : undefined
}
