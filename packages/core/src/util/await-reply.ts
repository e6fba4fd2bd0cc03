import type {Duplex, Readable} from 'node:stream'

/**
 * Read `stream` until what came so far satisfies `answered` (true), or until it ends, fails,
 * passes `maxBytes` (the other side is not trusted to stop), `timeoutMs` or `signal` (false).
 * The stream is destroyed either way.
 */
export function awaitReply(stream: Readable | Duplex, answered: (seen: string) => boolean, options: {maxBytes: number; timeoutMs: number; signal?: AbortSignal}): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    let seen = ''
    const done = (result: boolean) => {
      clearTimeout(timer)
      options.signal?.removeEventListener('abort', onAbort)
      stream.destroy()
      resolve(result)
    }
    const onAbort = () => done(false)
    const timer = setTimeout(() => done(false), options.timeoutMs)
    options.signal?.addEventListener('abort', onAbort, {once: true})
    stream.on('data', (chunk: Buffer) => {
      seen += chunk.toString('latin1')
      if (answered(seen)) done(true)
      else if (seen.length > options.maxBytes) done(false)
    })
    stream.on('error', () => done(false))
    stream.on('close', () => done(false))
  })
}
