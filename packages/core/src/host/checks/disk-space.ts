import {statfs} from 'node:fs/promises'
import path from 'node:path'
import {formatBytes} from '../../util/format.js'
import {nearestExisting} from '../../util/fs.js'
import {parseSize} from '../../util/size.js'
import type {CheckOutcome, HostCheck, HostCheckContext} from '../check.js'

export interface SpaceNeed {
  label: string
  path: string
  /** Bytes that must be free on the filesystem holding `path`. */
  need: number
  /** The setting that sets `need`, named in the fix. */
  setting: string
}

/** Bytes available to unprivileged users on the filesystem holding `target` (or its nearest existing ancestor). */
export async function freeBytes(target: string): Promise<number> {
  const info = await statfs(await nearestExisting(target))
  return Number(info.bavail) * Number(info.bsize)
}

/**
 * A free-space check over some directories; core checks the store and the prefix,
 * plugins add their own needs (the oVirt plugin: 36 GB for system tests).
 */
export function diskSpaceCheck(options: {id: string; title: string; severity: 'fail' | 'warn'; needs: (ctx: HostCheckContext) => SpaceNeed[]}): HostCheck {
  return {
    id: options.id,
    title: options.title,
    async run(ctx) {
      const measured = await Promise.all(options.needs(ctx).map(async (n) => ({...n, free: await freeBytes(n.path)})))
      return diskSpaceOutcome(measured, options.severity)
    },
  }
}

export function diskSpaceOutcome(measured: (SpaceNeed & {free: number})[], severity: 'fail' | 'warn'): CheckOutcome {
  const short = measured.filter((m) => m.free < m.need)
  const describe = (m: SpaceNeed & {free: number}) => `${formatBytes(m.free)} free under the ${m.label} ${m.path} (needs ${formatBytes(m.need)})`
  if (short.length === 0) return {status: 'ok', message: measured.map(describe).join('; ')}
  const first = short[0]
  return {
    status: severity,
    code: 'HOST',
    message: short.map(describe).join('; '),
    fix: `free ${formatBytes(first.need - first.free)} on the filesystem of ${first.path} ("du -xsh ${first.path}/* | sort -h" shows what uses it), or move it to a bigger one (${first.setting})`,
    detail: {short: short.map(({label, path, free, need}) => ({label, path, free, need}))},
  }
}

/** Core's needs: the template store and the prefix (or the current directory, where prefixes usually go). */
export const diskSpaceCoreCheck = diskSpaceCheck({
  id: 'disk-space',
  title: 'free space',
  severity: 'fail',
  needs: (ctx) => [
    {
      label: 'template store',
      path: path.resolve(ctx.config.lago.template_store),
      need: parseSize(ctx.config.lago.store_min_free),
      setting: 'template_store under [lago], or LAGO_TEMPLATE_STORE; the threshold is store_min_free',
    },
    {
      label: ctx.prefixPath ? 'prefix' : 'current directory',
      path: path.resolve(ctx.prefixPath ?? process.cwd()),
      need: parseSize(ctx.config.lago.prefix_min_free),
      setting: 'create prefixes elsewhere; the threshold is prefix_min_free under [lago]',
    },
  ],
})
