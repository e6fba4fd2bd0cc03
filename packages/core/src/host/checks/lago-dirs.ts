import {constants} from 'node:fs'
import {access, stat} from 'node:fs/promises'
import path from 'node:path'
import type {LagoConfig} from '../../config/config.js'
import type {CheckOutcome, HostCheck} from '../check.js'
import {nearestExisting} from '../../util/fs.js'
import {currentUser} from '../facts.js'
import {modeOf} from '../../session/mode.js'

/** The shared directories (store, repos, leases) exist and this user can write them. */
export const lagoDirsCheck: HostCheck = {
  id: 'lago-dirs',
  title: 'Lago directories',
  async run(ctx) {
    const dirs = lagoDirs(ctx.config)
    const missing: string[] = []
    const readOnly: string[] = []
    for (const dir of dirs) {
      const info = await stat(dir.path).catch(() => undefined)
      if (!info) {
        if (!(await writable(await nearestExisting(dir.path)))) readOnly.push(dir.path)
        else missing.push(dir.path)
      } else if (!info.isDirectory() || !(await writable(dir.path))) {
        readOnly.push(dir.path)
      }
    }
    return lagoDirsOutcome(
      dirs.map((d) => d.path),
      missing,
      readOnly,
      currentUser().name,
      modeOf(ctx.config.libvirt.uri) === 'session',
    )
  },
}

export function lagoDirs(config: LagoConfig): {label: string; path: string}[] {
  return [
    {label: 'template store', path: path.resolve(config.lago.template_store)},
    {label: 'template repos', path: path.resolve(config.lago.template_repos)},
    {label: 'subnet leases', path: path.resolve(config.lago.lease_dir)},
  ]
}

export function lagoDirsOutcome(all: string[], missing: string[], readOnly: string[], user: string, perUser = false): CheckOutcome {
  if (readOnly.length > 0) {
    return {
      status: 'fail',
      code: 'PERMISSION',
      message: `you cannot write ${readOnly.join(', ')}`,
      fix: `sudo lago setup --user ${user}, then log in again (or point template_store/lease_dir at directories you own)`,
    }
  }
  if (missing.length > 0 && perUser) return {status: 'ok', message: `${all.join(', ')}: yours (session mode); Lago makes them on first use`}
  if (missing.length > 0) {
    return {status: 'warn', message: `${missing.join(', ')} not created yet (Lago makes them, but only for you)`, fix: 'sudo lago setup (shared directories, mode 3775, group lago)'}
  }
  return {status: 'ok', message: `${all.join(', ')} writable`}
}

export async function writable(dir: string): Promise<boolean> {
  return access(dir, constants.W_OK | constants.X_OK).then(
    () => true,
    () => false,
  )
}
