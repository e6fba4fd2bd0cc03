import {realpath, stat} from 'node:fs/promises'
import path from 'node:path'
import {LagoError, type LagoErrorCode} from '../errors.js'
import {fileError, isAbsent} from './fs.js'

/** What a name built into a path may look like: one path component, never "." or "..". */
export const SAFE_NAME = /^[A-Za-z0-9._-]+$/

/** Whether `name` can be one component of a path (letters, digits, ".", "_", "-"; no ".."). */
export function isSafeName(name: unknown): name is string {
  return typeof name === 'string' && SAFE_NAME.test(name) && !name.includes('..') && name !== '.'
}

/** `name` when it is a safe path component, else an error naming `what` and what would be valid. */
export function checkSafeName(name: unknown, what: string, code: LagoErrorCode = 'USAGE'): string {
  if (isSafeName(name)) return name
  throw new LagoError(code, `${what} ${JSON.stringify(name)} is not a valid name: use letters, digits, ".", "_" and "-" only, without "..".`, {
    detail: {field: what, value: name},
  })
}

/** Whether `candidate` (absolute) is `root` or lies under it. */
export function isWithin(root: string, candidate: string): boolean {
  const relative = path.relative(path.resolve(root), path.resolve(candidate))
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative))
}

/**
 * `root` joined with `parts`, checked to stay under `root` ("a/../../x" or an absolute part
 * cannot leave it): an error naming `what` otherwise.
 */
export function joinWithin(root: string, parts: string[], what: string, code: LagoErrorCode = 'USAGE'): string {
  const joined = path.resolve(root, ...parts)
  if (!isWithin(root, joined) || joined === path.resolve(root)) {
    throw new LagoError(code, `${what} ${JSON.stringify(parts.join('/'))} points outside ${root}.`, {detail: {field: what, value: parts.join('/'), root}})
  }
  return joined
}

/** Whether `candidate` resolves (symlinks followed) to a path under `root`'s real path. */
export async function realpathWithin(root: string, candidate: string): Promise<boolean> {
  try {
    const [realRoot, real] = await Promise.all([realpath(root), realpath(candidate)])
    return isWithin(realRoot, real)
  } catch (error) {
    if (isAbsent(error)) return false
    throw fileError(candidate, 'resolve', error)
  }
}

/** C0 control characters and DEL: never part of a name, path, address or command-line value. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
export const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/

/** The first control character of `text` as "\\n" / "\\u0000", or undefined. */
export function controlCharacterIn(text: string): string | undefined {
  const match = CONTROL_CHARACTERS.exec(text)
  return match ? JSON.stringify(match[0]).slice(1, -1) : undefined
}

/** Whether every user of the host may read `file`: o+r on it and o+x on each directory above it. */
export async function readableByAnyone(file: string): Promise<boolean> {
  try {
    if (((await stat(file)).mode & 0o004) === 0) return false
    for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
      if (((await stat(dir)).mode & 0o001) === 0) return false
      if (path.dirname(dir) === dir) return true
    }
  } catch (error) {
    if (isAbsent(error)) return false
    throw fileError(file, 'look at', error)
  }
}
