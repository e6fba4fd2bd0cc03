import {stat} from 'node:fs/promises'
import path from 'node:path'
import {realpathWithin} from '@lago/core'

/**
 * The file a request path names under `root`, when it may be served: a regular file whose real
 * path (symbolic links followed) lies under the root's, reached through no dotfile or dot
 * directory. Undefined for anything else (the server answers 404).
 */
export async function servableFile(root: string, requestPath: string): Promise<string | undefined> {
  let pathname: string
  try {
    pathname = decodeURIComponent(new URL(requestPath, 'http://x/').pathname)
  } catch {
    return undefined
  }
  const segments = pathname.split('/').filter(Boolean)
  if (segments.some((s) => s.startsWith('.') || s.includes('\0') || s.includes('\\'))) return undefined
  const file = path.join(root, ...segments)
  if (!(await realpathWithin(root, file))) return undefined
  const info = await stat(file).catch(() => undefined)
  return info?.isFile() ? file : undefined
}
