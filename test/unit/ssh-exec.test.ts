import assert from 'node:assert/strict'
import net, {type AddressInfo} from 'node:net'
import ssh2 from 'ssh2'
import {connect, execCapture, execOn, generateKeyPair} from '@lago/core'

/** A loopback SSH server whose exec requests finish at once. */
async function instantServer(): Promise<{port: number; close: () => void}> {
  const hostKey = (await generateKeyPair('host')).privateKey
  const server = new ssh2.Server({hostKeys: [hostKey]}, (client) => {
    client.on('authentication', (ctx) => ctx.accept())
    client.on('session', (accept) => {
      accept().on('exec', (acceptExec, _reject, info) => {
        const channel = acceptExec()
        const code = Number(/^exit (\d+)$/.exec(info.command)?.[1] ?? 0)
        channel.write(`ran ${info.command}\n`)
        channel.exit(code)
        channel.end()
      })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {port: (server.address() as AddressInfo).port, close: () => server.close()}
}

/**
 * A proxy in front of `port` that hands the server's bytes on in batches every 25 ms, so the
 * client reads the channel confirmation and the exit status in one go, as from a busy guest.
 */
async function batchingProxy(port: number): Promise<{port: number; close: () => void}> {
  const proxy = net.createServer((downstream) => {
    const upstream = net.connect(port, '127.0.0.1')
    let pending: Buffer[] = []
    const timer = setInterval(() => {
      if (pending.length > 0 && downstream.writable) downstream.write(Buffer.concat(pending))
      pending = []
    }, 25)
    upstream.on('data', (chunk: Buffer) => pending.push(chunk))
    downstream.pipe(upstream)
    const stop = () => (clearInterval(timer), upstream.destroy(), downstream.destroy())
    upstream.on('close', stop).on('error', stop)
    downstream.on('close', stop).on('error', stop)
  })
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
  return {port: (proxy.address() as AddressInfo).port, close: () => proxy.close()}
}

describe('SSH exec', () => {
  it('passes exit statuses of instant commands through, also when the replies arrive batched', async () => {
    const server = await instantServer()
    const proxy = await batchingProxy(server.port)
    const client = await connect({host: '127.0.0.1', port: proxy.port, user: 'root', privateKey: (await generateKeyPair('client')).privateKey})
    try {
      for (let i = 0; i < 30; i++) assert.equal(await execOn(client, `exit ${i % 8}`), i % 8, `command ${i}`)
      const captured = await execCapture(client, 'exit 3')
      assert.deepEqual([captured.exitCode, captured.stdout], [3, 'ran exit 3\n'])
    } finally {
      client.end()
      proxy.close()
      server.close()
    }
  })
})
