import {readdir, stat} from 'node:fs/promises'
import path from 'node:path'
import {run} from '@lago/core'

/** RPM files under `dir` (recursively), as paths relative to it, sorted. Source RPMs are left out. */
export async function listRpms(dir: string): Promise<string[]> {
  const names = await readdir(dir, {recursive: true}).catch(() => [] as string[])
  return names.filter((n) => n.endsWith('.rpm') && !n.endsWith('.src.rpm')).sort()
}

/** relative path → "size:mtime", to tell which files changed since the last look. */
export async function fingerprints(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const name of await listRpms(dir)) {
    const info = await stat(path.join(dir, name))
    out[name] = `${info.size}:${Math.trunc(info.mtimeMs)}`
  }
  return out
}

/** Files whose digests do not match their headers (truncated or corrupt downloads). */
export async function corruptRpms(files: string[], signal?: AbortSignal): Promise<string[]> {
  const bad: string[] = []
  for (let i = 0; i < files.length; i += 200) {
    const batch = files.slice(i, i + 200)
    const result = await run('rpm', ['-K', '--nosignature', ...batch], {reject: false, signal})
    if (result.exitCode === 0) continue
    const ok = new Set(
      result.stdout
        .split('\n')
        .filter((line) => /:\s*digests OK$/i.test(line))
        .map((line) => line.replace(/:\s*digests OK$/i, '')),
    )
    bad.push(...batch.filter((file) => !ok.has(file)))
  }
  return bad
}

export interface RpmHeader {
  file: string
  name: string
  arch: string
  epoch: string
  version: string
  release: string
}

const QUERY_FORMAT = '%{NAME}\\t%{ARCH}\\t%{EPOCHNUM}\\t%{VERSION}\\t%{RELEASE}\\n'

/** Name, arch and EVR of each RPM file, read from its header. */
export async function readHeaders(files: string[], signal?: AbortSignal): Promise<RpmHeader[]> {
  const headers: RpmHeader[] = []
  for (let i = 0; i < files.length; i += 200) {
    const batch = files.slice(i, i + 200)
    const {stdout} = await run('rpm', ['-qp', '--nosignature', '--nodigest', '--qf', QUERY_FORMAT, ...batch], {signal})
    stdout.split('\n').forEach((line, index) => {
      const [name, arch, epoch, version, release] = line.split('\t')
      headers.push({file: batch[index], name, arch, epoch, version, release})
    })
  }
  return headers
}
