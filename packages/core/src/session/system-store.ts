import {constants} from 'node:fs'
import {access} from 'node:fs/promises'
import path from 'node:path'
import type {LagoConfig} from '../config/config.js'
import {log} from '../log.js'
import {checkIntact} from '../templates/image-checks.js'
import {TemplateStore, type StoredTemplate} from '../templates/store.js'
import {modeOf} from './mode.js'

/**
 * Session mode: the templates of `ids` that the shared system store already holds, verified and
 * intact, when this user can read it and it is not the store in use. They are used in place
 * (overlays on them, read-only), so the user's own store gets no copy.
 */
export async function lentTemplates(config: LagoConfig, storeInUse: string, ids: string[]): Promise<Map<string, StoredTemplate>> {
  const lent = new Map<string, StoredTemplate>()
  const dir = path.resolve(config.lago.system_store)
  if (modeOf(config.libvirt.uri) !== 'session' || !config.lago.system_store || dir === path.resolve(storeInUse)) return lent
  const readable = await access(dir, constants.R_OK | constants.X_OK).then(
    () => true,
    () => false,
  )
  if (!readable) return lent
  const shared = new TemplateStore(dir)
  for (const id of ids) {
    const stored = await shared.get(id).catch(() => undefined)
    if (!stored?.verified) continue
    const intact = await checkIntact(stored).catch((error: unknown) => log.warn(`not using ${stored.path} from the system store: ${String(error)}`))
    if (intact) lent.set(id, {...intact, readOnly: true})
  }
  return lent
}
