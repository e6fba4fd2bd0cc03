// Through the SDK (@lago/core): which package won, on every VM.
import assert from 'node:assert/strict'
import {openPrefix} from '@lago/core'

const prefix = await openPrefix(process.env.LAGO_PREFIX!)

describe('packages from the internal repository', () => {
  for (const vm of ['engine', 'host0']) {
    it(`${vm} got the locally built lago-hello, not upstream's`, async () => {
      const origin = await prefix.exec(vm, 'cat /usr/share/lago-hello/origin')
      assert.equal(origin.stdout.trim(), 'built-locally')
    })
  }

  it('engine got lago-tools from upstream', async () => {
    const out = await prefix.exec('engine', 'lago-tools')
    assert.equal(out.stdout.trim(), 'lago-tools 2.0')
  })
})
