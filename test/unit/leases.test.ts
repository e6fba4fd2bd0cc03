import assert from 'node:assert/strict'
import {mkdtemp, readdir, rm, writeFile} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import {SubnetLeases, isLagoError} from '@lago/core'

describe('subnet leases', () => {
  let dir: string
  let owners: {uuidFile: string; uuid: string}[]

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'lago-leases-'))
    owners = []
    for (let i = 0; i < 10; i++) {
      const uuidFile = path.join(dir, `prefix${i}-uuid`)
      await writeFile(uuidFile, `uuid-${i}`)
      owners.push({uuidFile, uuid: `uuid-${i}`})
    }
  })

  afterEach(() => rm(dir, {recursive: true, force: true}))

  it('ten prefixes leasing at once never share a subnet', async () => {
    const leases = new SubnetLeases(path.join(dir, 'subnets'), '10.213.0.0', 56)
    const results = await Promise.all(owners.map((owner) => leases.acquire(owner, 2)))
    const all = results.flat()
    assert.equal(all.length, 20)
    assert.equal(new Set(all).size, 20)
    for (const subnet of all) assert.match(subnet, /^10\.213\.\d+\.0$/)
  })

  it("releases only the owner's leases and reclaims those of vanished prefixes", async () => {
    const leases = new SubnetLeases(path.join(dir, 'subnets'), '10.213.0.0', 4)
    const [a] = await leases.acquire(owners[0], 1)
    const [b] = await leases.acquire(owners[1], 1)
    assert.notEqual(a, b)
    assert.deepEqual(await leases.release(owners[0]), [a])
    await rm(owners[1].uuidFile) // prefix 1 deleted by hand: its lease is stale
    const again = await leases.acquire(owners[2], 4)
    assert.equal(again.length, 4)
    assert.deepEqual((await readdir(path.join(dir, 'subnets'))).filter((n) => n.endsWith('.lease')).length, 4)
  })

  it('says how many were needed and free when the pool is exhausted', async () => {
    const leases = new SubnetLeases(path.join(dir, 'subnets'), '10.213.0.0', 2)
    await leases.acquire(owners[0], 2)
    await assert.rejects(leases.acquire(owners[1], 1), (error: unknown) => {
      assert.ok(isLagoError(error))
      assert.match(error.message, /No free subnet left: 1 needed, the pool 10\.213\.0\.0\/24 ×2 .* has 0 free\./)
      assert.match(error.hint ?? '', /lago destroy/)
      return true
    })
  })
})
