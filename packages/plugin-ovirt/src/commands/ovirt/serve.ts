import {Flags} from '@oclif/core'
import {LagoCommand} from '@lago/cli'

export default class Serve extends LagoCommand {
  static summary = 'Serve the prefix internal repo over HTTP on the management network gateway (until Ctrl-C).'
  static flags = {
    port: Flags.integer({summary: 'Port to listen on.', default: 8585, min: 1, max: 65_535}),
  }

  async run() {
    const {flags} = await this.parseLago(Serve)
    const prefix = await this.openPrefix(flags)
    const {startRepoServer} = await import('../../lib/serve/repo-server.js')
    const server = await startRepoServer(prefix, {port: flags.port})
    if (!this.jsonEnabled()) this.log(`Serving ${server.root} on ${server.url} (requests logged to ${server.accessLog}); Ctrl-C stops.`)
    await new Promise<void>((resolve) => this.abort.signal.addEventListener('abort', () => resolve(), {once: true}))
    await server.close()
    return {url: server.url, root: server.root}
  }
}
