import {existsSync} from 'node:fs'
import {appendFile, mkdir} from 'node:fs/promises'
import type {Server} from 'node:http'
import path from 'node:path'
import {LagoError, type Prefix} from '@lago/core'
import {OVIRT_REPO_PORT} from '../host-checks.js'
import {internalRepoRoot} from '../reposetup/reposetup.js'
import {servableFile} from './servable.js'

export interface RepoServer {
  /** Base URL the guests use: http://<management gateway>:<port>/ */
  url: string
  host: string
  port: number
  root: string
  accessLog: string
  close(): Promise<void>
}

/** Every request is logged here (time, client, method, path, status): proof of what the guests fetched. */
export function accessLogPath(prefix: Prefix): string {
  return path.join(prefix.paths.logs, 'ovirt-repo-access.log')
}

/** The address the guests reach the host on: the management network's gateway. */
export function managementGateway(prefix: Prefix): string {
  const mgmt = prefix.state.nets.find((n) => n.management) ?? prefix.state.nets[0]
  if (!mgmt) throw new LagoError('PREFIX', `Prefix ${prefix.paths.root} has no network to serve the repository on.`)
  return mgmt.gateway
}

/**
 * Serve the prefix's internal repository (PREFIX/internal_repo, one directory per distro)
 * over HTTP on the management gateway, so only the environment's guests reach it.
 */
export async function startRepoServer(prefix: Prefix, options: {port?: number; host?: string} = {}): Promise<RepoServer> {
  const host = options.host ?? managementGateway(prefix)
  const port = options.port ?? OVIRT_REPO_PORT
  const root = internalRepoRoot(prefix)
  const accessLog = accessLogPath(prefix)
  await mkdir(root, {recursive: true})
  await mkdir(path.dirname(accessLog), {recursive: true})
  const [{default: sirv}, {createServer}] = await Promise.all([import('sirv'), import('node:http')])
  const files = sirv(root, {dev: true, dotfiles: false, etag: true})
  const server = createServer((req, res) => {
    const requested = req.url
    // Read now: once the guest has hung up, the socket no longer knows its peer.
    const client = req.socket.remoteAddress ?? '-'
    // 'close' comes for every response, also when the guest hangs up before 'finish' would.
    res.once('close', () => {
      void appendFile(accessLog, `${new Date().toISOString()} ${client} ${req.method} ${requested} ${res.statusCode}\n`).catch(() => {})
    })
    // The original served PREFIX/internal_repo/<repo-name, "default">/<distro>/: OST's deploy scripts ask for /default/<distro>/.
    if (req.url?.startsWith('/default/') && !existsSync(path.join(root, 'default'))) req.url = req.url.slice('/default'.length)
    const notFound = () => {
      res.statusCode = 404
      res.end('not found\n')
    }
    // Regular files under the root only: no symbolic link out of it, no dotfiles.
    void servableFile(root, req.url ?? '/').then((file) => (file ? files(req, res, notFound) : notFound()), notFound)
  })
  await listen(server, host, port)
  return {
    url: `http://${host}:${port}/`,
    host,
    port,
    root,
    accessLog,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') {
        reject(
          new LagoError('HOST', `Port ${port} on ${host} is taken: the repository cannot be served there.`, {hint: `Stop what listens there (ss -ltnp 'sport = :${port}' names it), or pass --port.`}),
        )
      } else if (error.code === 'EADDRNOTAVAIL') {
        reject(new LagoError('PREFIX', `${host} (the management network's gateway) is not an address of this host: is the environment's network up?`, {hint: 'Run "lago start" first.'}))
      } else reject(error)
    })
    server.listen({host, port}, () => resolve())
  })
}
