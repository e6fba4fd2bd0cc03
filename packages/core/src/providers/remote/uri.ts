import os from 'node:os'
import path from 'node:path'
import {LagoError} from '../../errors.js'
import {run} from '../../util/exec.js'

/** A libvirt URI that reaches another host over SSH (`qemu+ssh://user@host:port/system?keyfile=…`). */
export interface SshHypervisor {
  uri: string
  host: string
  port?: number
  user?: string
  keyfile?: string
  /** `no_verify=1`: the host key is not checked (as virsh does with that parameter). */
  noVerify: boolean
}

/** True for libvirt URIs that name another host (any transport); false for `qemu:///system` and friends. */
export function isRemoteUri(uri: string): boolean {
  return /^[a-z0-9]+(\+[a-z0-9]+)?:\/\/[^/]/i.test(uri)
}

/** The SSH side of a `qemu+ssh://` URI; other remote transports are refused by name. */
export function parseSshUri(uri: string): SshHypervisor {
  let url: URL
  try {
    url = new URL(uri)
  } catch {
    throw new LagoError('CONFIG', `Invalid hypervisor URI "${uri}".`, {hint: 'Expected a libvirt URI such as qemu+ssh://root@host/system?keyfile=/path/to/key.'})
  }
  if (url.protocol !== 'qemu+ssh:' && url.protocol !== 'qemu+libssh2:' && url.protocol !== 'qemu+libssh:') {
    throw new LagoError('CONFIG', `Hypervisor URI "${uri}": Lago reaches remote hosts over SSH only, not ${url.protocol.replace(/:$/, '')}.`, {
      hint: 'Use qemu+ssh://USER@HOST/system (the key from ?keyfile= or your ~/.ssh/config).',
    })
  }
  if (!url.hostname) throw new LagoError('CONFIG', `Hypervisor URI "${uri}" names no host.`)
  const keyfile = url.searchParams.get('keyfile') ?? undefined
  return {
    uri,
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port ? Number(url.port) : undefined,
    user: url.username ? decodeURIComponent(url.username) : undefined,
    keyfile: keyfile ? path.resolve(keyfile.replace(/^~(?=\/)/, os.homedir())) : undefined,
    noVerify: url.searchParams.get('no_verify') === '1',
  }
}

/** What ssh(1) would use for that host: the URI's own user/port/key first, then ~/.ssh/config (`ssh -G`). */
export interface SshSettings {
  host: string
  hostname: string
  port: number
  user: string
  identityFiles: string[]
  noVerify: boolean
}

export async function resolveSshSettings(hypervisor: SshHypervisor): Promise<SshSettings> {
  const effective = await sshConfigFor(hypervisor.host)
  const identityFiles = hypervisor.keyfile ? [hypervisor.keyfile] : (effective.get('identityfile') ?? []).map((f) => f.replace(/^~(?=\/)/, os.homedir()))
  return {
    host: hypervisor.host,
    hostname: effective.get('hostname')?.[0] ?? hypervisor.host,
    port: hypervisor.port ?? Number(effective.get('port')?.[0] ?? 22),
    user: hypervisor.user ?? effective.get('user')?.[0] ?? os.userInfo().username,
    identityFiles,
    noVerify: hypervisor.noVerify,
  }
}

/** For a tool run that failed: undefined when the tool is not installed, else the failure itself. */
export function unlessNotInstalled(error: unknown): undefined {
  if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
  throw error
}

/** `ssh -G HOST`: OpenSSH's own reading of the user's configuration; empty when ssh is not installed. */
async function sshConfigFor(host: string): Promise<Map<string, string[]>> {
  const settings = new Map<string, string[]>()
  const result = await run('ssh', ['-G', '--', host], {reject: false}).catch(unlessNotInstalled)
  if (!result || result.exitCode !== 0) return settings
  for (const line of result.stdout.split('\n')) {
    const match = /^(\S+)\s+(.*)$/.exec(line.trim())
    if (match) settings.set(match[1].toLowerCase(), [...(settings.get(match[1].toLowerCase()) ?? []), match[2]])
  }
  return settings
}
