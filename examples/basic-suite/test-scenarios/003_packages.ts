// Through the SDK (@lago/core): which package won, on every VM.
import assert from 'node:assert/strict'
import {execCapture, findPrefix, loadConfig, Prefix} from '@lago/core'

const prefix = await Prefix.open(await findPrefix(process.cwd(), process.env.LAGO_PREFIX), await loadConfig())
const sh = (vm: string, command: string) => prefix.withGuest(vm, undefined, (client) => execCapture(client, command))

describe('packages from the internal repository', () => {
  for (const vm of ['engine', 'host0']) {
    it(`${vm} got the locally built lago-hello, not upstream's`, async () => {
      const origin = await sh(vm, 'cat /usr/share/lago-hello/origin')
      assert.equal(origin.stdout.trim(), 'built-locally')
    })
  }

  it('engine got lago-tools from upstream', async () => {
    const out = await sh('engine', 'lago-tools')
    assert.equal(out.stdout.trim(), 'lago-tools 2.0')
  })
})
