import assert from 'node:assert/strict'
import {readdir, rm} from 'node:fs/promises'
import path from 'node:path'
import {FakeProvider, hostMemory, isLagoError, PrefixPaths, readPlacement, registerProvider} from '@lago/core'
import {FakeEnvironment} from '../lib/fake-env.js'

const HOSTS = {h1: 'qemu+ssh://root@h1.test/system', h2: 'qemu+ssh://root@h2.test/system'}

/** One VM of 512 MiB; its disk needs no template. */
const ONE_VM = `
domains:
  vm0:
    memory: 512
    nics: [{net: mgmt}]
    disks: [{name: root, dev: vda, type: file, path: base.img, format: raw, make_a_copy: true}]
nets:
  mgmt: {management: true}
`

describe('provider seam: placement on several hypervisors', () => {
  let env: FakeEnvironment
  let hosts: Record<string, FakeProvider>
  beforeEach(async () => {
    env = await FakeEnvironment.create('fake-placement')
    env.config.hypervisors = {...HOSTS}
    // Two fake hypervisors: which one a provider acts on follows the URI the placement chose.
    hosts = {[HOSTS.h1]: new FakeProvider({name: 'fake-placement', world: {memoryMiB: 1000}}), [HOSTS.h2]: new FakeProvider({name: 'fake-placement', world: {memoryMiB: 800}})}
    registerProvider({name: 'fake-placement', create: (config, environment) => hosts[config.libvirt.uri].withEnvironment(environment)})
  })
  afterEach(() => env.close())

  const placedOn = async (prefix: string) => (await readPlacement(new PrefixPaths(prefix)))!.name

  it('two inits at once take turns: the second counts the first (placed, not started) and goes to the other host', async () => {
    const file = await env.initFile('one', ONE_VM)
    // Alone, each would pick h1 (1000 MiB free); both there would need 1024 MiB.
    const prefixes = await Promise.all([env.init('a', file), env.init('b', file)])
    assert.deepEqual((await Promise.all(prefixes.map(placedOn))).sort(), ['h1', 'h2'])
    assert.equal((await readPlacement(new PrefixPaths(prefixes[0])))!.memoryMiB, 512)

    // Both hosts now have less than 512 MiB free once the placed prefixes are counted.
    await assert.rejects(
      env.init('c', file),
      (error: unknown) =>
        isLagoError(error) &&
        /No hypervisor has 512 MiB free/.test(error.message) &&
        /h1: 488 MiB free \(1000 available - 512 promised/.test(error.message) &&
        /h2: 288 MiB free \(800 available - 512 promised/.test(error.message),
    )
    assert.deepEqual(
      (await readdir(env.dir)).filter((n) => n === 'c'),
      [],
      'the refused init made nothing',
    )
    assert.deepEqual(await readdir(path.join(env.config.lago.lease_dir, 'hosts')).then((names) => names.filter((n) => n.endsWith('.lock'))), [], 'no placement lock left')
  })

  it('counts a prefix still being initialised from the memory its hypervisor.json records, and not one rolled back', async () => {
    const file = await env.initFile('one', ONE_VM)
    const a = await env.init('a', file)
    const h1 = () => hostMemory(env.config, [{name: 'h1', uri: HOSTS.h1}], 'fake-placement').then(([m]) => [m.availableMiB, m.promisedMiB])
    assert.deepEqual(await h1(), [1000, 512], 'placed, not started')
    // Before init writes the state (leases taken, hypervisor.json written), the placement says how much.
    await rm(new PrefixPaths(a).state)
    assert.deepEqual(await h1(), [1000, 512], 'being initialised')
    await rm(a, {recursive: true})
    hosts[HOSTS.h1].failOn({method: 'seed'})
    await assert.rejects(env.init('b', file), (error: unknown) => isLagoError(error) && /injected/.test(error.message))
    assert.deepEqual(await h1(), [1000, 0], 'a failed init leaves no promise behind')
  })
})
