import {lstat, readdir, readlink, rm, rmdir, symlink, rename} from 'node:fs/promises'
import path from 'node:path'
import {LagoError} from '../errors.js'
import {pathExists, unlessAbsent} from '../util/fs.js'
import {PrefixPaths, STATE_DIR_NAME} from './paths.js'

export const DEFAULT_PREFIX_NAME = 'default'

/**
 * A workdir holds several prefixes side by side (`NAME/`) and a `current` link to the one
 * commands act on by default; `lago init` without a directory makes `./.lago` one.
 */
export class Workdir {
  constructor(readonly dir: string) {}

  get currentLink(): string {
    return path.join(this.dir, 'current')
  }

  static async isWorkdir(dir: string): Promise<boolean> {
    const info = await unlessAbsent(lstat(path.join(dir, 'current')), path.join(dir, 'current'), 'look at')
    // A standalone prefix's `current` points at its own .lago (the original's layout, for old scripts).
    return (info?.isSymbolicLink() ?? false) && (await readlink(path.join(dir, 'current'))) !== STATE_DIR_NAME
  }

  /** The workdir at `explicit`, else the nearest one from `cwd` upward (DIR itself, or DIR/.lago). */
  static async find(cwd: string, explicit?: string): Promise<Workdir> {
    if (explicit) {
      for (const candidate of [path.resolve(explicit), path.resolve(explicit, STATE_DIR_NAME)]) {
        if (await Workdir.isWorkdir(candidate)) return new Workdir(candidate)
      }
      throw new LagoError('NO_PREFIX', `${path.resolve(explicit)} is not a Lago workdir (no "current" link in it or in its .lago).`)
    }
    let dir = path.resolve(cwd)
    for (;;) {
      for (const candidate of [dir, path.join(dir, STATE_DIR_NAME)]) {
        if (await Workdir.isWorkdir(candidate)) return new Workdir(candidate)
      }
      const parent = path.dirname(dir)
      if (parent === dir) break
      dir = parent
    }
    throw new LagoError('NO_PREFIX', `No Lago workdir in ${path.resolve(cwd)} or above it.`, {
      hint: 'Create one with "lago init" (uses ./LagoInitFile and ./.lago), or pass the workdir path.',
    })
  }

  prefixPaths(name: string): PrefixPaths {
    return new PrefixPaths(path.join(this.dir, name))
  }

  async prefixes(): Promise<string[]> {
    const names: string[] = []
    for (const entry of await readdir(this.dir, {withFileTypes: true})) {
      if (entry.isDirectory() && (await pathExists(this.prefixPaths(entry.name).uuid))) names.push(entry.name)
    }
    return names.sort()
  }

  async current(): Promise<string | undefined> {
    const target = await unlessAbsent(readlink(this.currentLink), this.currentLink, 'read the link')
    return target === undefined ? undefined : path.basename(target)
  }

  async setCurrent(name: string): Promise<void> {
    if (!(await pathExists(this.prefixPaths(name).uuid))) {
      throw new LagoError('USAGE', `No prefix "${name}" in workdir ${this.dir}.`, {hint: `Prefixes: ${(await this.prefixes()).join(', ') || '(none)'}.`})
    }
    const tmp = `${this.currentLink}.${process.pid}`
    await rm(tmp, {force: true})
    await symlink(name, tmp)
    await rename(tmp, this.currentLink)
  }

  /** After a prefix is gone: re-point `current` (prefer `default`), or remove the workdir when empty. */
  async settle(): Promise<void> {
    const names = await this.prefixes()
    if (names.length === 0) {
      await rm(this.currentLink, {force: true})
      await rmdir(this.dir).catch(() => undefined)
      return
    }
    const current = await this.current()
    if (!current || !names.includes(current)) await this.setCurrent(names.includes(DEFAULT_PREFIX_NAME) ? DEFAULT_PREFIX_NAME : names[0])
  }
}

export interface InitTarget {
  prefixPath: string
  initFile: string
  /** Set when the prefix goes into a workdir. */
  workdir?: Workdir
  prefixName?: string
}

/**
 * Where `lago init [DIR] [INIT_FILE]` puts the environment: with one argument it is the
 * init file; DIR without --prefix-name is the prefix itself (the original lagocli form);
 * DIR with --prefix-name is a workdir; no DIR means the workdir ./.lago.
 */
export function initTarget(cwd: string, positionals: string[], prefixName?: string, options: {fromGolden?: boolean} = {}): InitTarget {
  // A copy of a golden environment reads no init file: "init DIR --from G" makes DIR the prefix.
  const [first, second] = options.fromGolden && positionals.length === 1 && !prefixName ? [positionals[0], 'LagoInitFile'] : positionals
  const initFile = path.resolve(cwd, second ?? first ?? 'LagoInitFile')
  if (second !== undefined && !prefixName) return {prefixPath: path.resolve(cwd, first), initFile}
  const workdir = new Workdir(second !== undefined ? path.resolve(cwd, first) : path.resolve(cwd, STATE_DIR_NAME))
  const name = prefixName && prefixName !== 'current' ? prefixName : DEFAULT_PREFIX_NAME
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) throw new LagoError('USAGE', `Prefix name "${name}" is not valid: use letters, digits, ".", "_" and "-".`)
  return {prefixPath: path.join(workdir.dir, name), initFile, workdir, prefixName: name}
}
