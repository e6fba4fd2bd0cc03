import {constants} from 'node:fs'
import {access, mkdir, writeFile} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import {DEFAULT_CONFIG, type LagoConfig} from '../config/config.js'
import {log} from '../log.js'
import {pathExists} from '../util/fs.js'
import {run} from '../util/exec.js'
import {cleanVirshError} from '../providers/libvirt/virsh.js'

export const SESSION_URI = 'qemu:///session'
export const SYSTEM_SOCKETS = ['/run/libvirt/libvirt-sock', '/var/run/libvirt/libvirt-sock']

/** system: qemu:///system (bridges, dnsmasq); session: qemu:///session, rootless (user-mode networks, forwarded ports). */
export type LibvirtMode = 'system' | 'session'

export function modeOf(uri: string): LibvirtMode {
  return /^qemu(\+unix)?:\/\/\/session(\?|$)/.test(uri) ? 'session' : 'system'
}

/** The per-user places of session mode (XDG base directories). */
export function userPlaces(env: NodeJS.ProcessEnv = process.env): {store: string; repos: string; leases: string; cache: string; state: string} {
  const home = env.HOME ?? os.homedir()
  const data = path.join(env.XDG_DATA_HOME || path.join(home, '.local', 'share'), 'lago')
  const state = path.join(env.XDG_STATE_HOME || path.join(home, '.local', 'state'), 'lago')
  const cache = path.join(env.XDG_CACHE_HOME || path.join(home, '.cache'), 'lago')
  return {store: path.join(data, 'store'), repos: path.join(data, 'repos'), leases: path.join(state, 'subnets'), cache, state}
}

/** Why the system daemon is not usable by this process, or undefined when it is (or may be). */
export async function systemDaemonUnusable(uid = process.getuid?.() ?? 0): Promise<string | undefined> {
  if (uid === 0) return undefined
  for (const socket of SYSTEM_SOCKETS) {
    if (!(await pathExists(socket))) continue
    try {
      await access(socket, constants.R_OK | constants.W_OK)
    } catch (error) {
      return `you may not use its socket ${socket} (${(error as NodeJS.ErrnoException).code})`
    }
    // The socket is usually open to all and polkit decides: ask the daemon itself.
    const result = await run('virsh', ['-q', '-c', DEFAULT_CONFIG.libvirt.uri, 'uri'], {reject: false, timeoutMs: 10_000}).catch((error: unknown) => ({exitCode: 1, stderr: String(error)}))
    return result.exitCode === 0 ? undefined : `it refused you: ${cleanVirshError(result.stderr)}`
  }
  return 'it is not running (no socket under /run/libvirt)'
}

/**
 * Session mode when the URI asks for it, or (URI left at its default) when this user cannot
 * use the system daemon; then the store, repositories and leases default to per-user places.
 * Says once per user why it picked session mode by itself.
 */
export async function applyLibvirtMode(config: LagoConfig, env: NodeJS.ProcessEnv = process.env): Promise<LagoConfig> {
  if (config.libvirt.uri === DEFAULT_CONFIG.libvirt.uri) {
    const reason = await systemDaemonUnusable()
    if (!reason) return config
    config.libvirt.uri = SESSION_URI
    await noticeOnce(env, `the system libvirt daemon is not usable by ${os.userInfo().username} (${reason}): Lago runs rootless on ${SESSION_URI} (docs/rootless.md). Set libvirt.uri to choose.`)
  }
  if (modeOf(config.libvirt.uri) !== 'session') return config
  const places = userPlaces(env)
  const defaults = DEFAULT_CONFIG.lago
  if (config.lago.template_store === defaults.template_store) config.lago.template_store = places.store
  if (config.lago.template_repos === defaults.template_repos) config.lago.template_repos = places.repos
  if (config.lago.lease_dir === defaults.lease_dir) config.lago.lease_dir = places.leases
  return config
}

async function noticeOnce(env: NodeJS.ProcessEnv, text: string): Promise<void> {
  const marker = path.join(userPlaces(env).state, 'session-mode-noticed')
  if (await pathExists(marker)) return
  log.warn(text)
  await mkdir(path.dirname(marker), {recursive: true})
    .then(() => writeFile(marker, `${text}\n`))
    .catch(() => undefined)
}

/** The shared store of system mode, when this user can read it (session mode uses its templates read-only). */
export async function readableSystemStore(): Promise<string | undefined> {
  const dir = DEFAULT_CONFIG.lago.template_store
  try {
    await access(dir, constants.R_OK | constants.X_OK)
    return dir
  } catch {
    return undefined
  }
}
