import assert from 'node:assert/strict'
import {readFile} from 'node:fs/promises'
import path from 'node:path'
import {isLagoError, Journal, PrefixLock, PrefixPaths, planInit, type PrefixState} from '@lago/core'
import {macForIp} from '../../packages/core/src/network/ipv4.js'
import {pathExists} from '../../packages/core/src/util/fs.js'
import {FakeEnvironment, TWO_VMS} from '../lib/fake-env.js'

describe('provider seam: init through the fake provider', () => {
  let env: FakeEnvironment
  beforeEach(async () => {
    env = await FakeEnvironment.create('fake-init')
  })
  afterEach(() => env.close())

  it('plans subnets, addresses and MACs, and makes disks and seeds through the provider', async () => {
    const prefixPath = await env.init('p', await env.initFile('two', TWO_VMS))
    const paths = new PrefixPaths(prefixPath)
    const state = JSON.parse(await readFile(paths.state, 'utf8')) as PrefixState
    assert.equal(state.provider, 'fake-init', 'the prefix remembers its provider')
    assert.deepEqual(
      state.nets.map((n) => [n.name, n.subnet, n.gateway, n.libvirtName]),
      [
        ['mgmt', '10.251.0.0', '10.251.0.1', `lago-${state.id}-mgmt`],
        ['data', '10.251.1.0', '10.251.1.1', `lago-${state.id}-data`],
      ],
    )
    const vm0 = state.vms.find((v) => v.name === 'vm0')!
    const vm1 = state.vms.find((v) => v.name === 'vm1')!
    assert.deepEqual(
      vm0.nics.map((n) => [n.net, n.ip]),
      [
        ['mgmt', '10.251.0.2'],
        ['data', '10.251.1.2'],
      ],
    )
    assert.equal(vm1.nics[0].ip, '10.251.0.50', 'a static address keeps its last octet, moved into the leased subnet')
    for (const nic of [...vm0.nics, ...vm1.nics]) assert.equal(nic.mac, macForIp(nic.ip))

    // Disks and seeds exist only in the fake's memory: the provider made them, not core.
    const images = env.fake.world.images
    assert.deepEqual([...images.keys()].map((f) => path.relative(paths.images, f)).sort(), ['vm0_data.qcow2', 'vm0_root.qcow2', 'vm1_root.qcow2'])
    assert.equal(images.get(path.join(paths.images, 'vm0_data.qcow2'))!.virtualSize, 2 * 1024 ** 3)
    assert.deepEqual(images.get(path.join(paths.images, 'vm1_root.qcow2'))!.backing, {path: path.join(env.dir, 'base.img'), format: 'raw'})
    assert.equal(await pathExists(path.join(paths.images, 'vm0_root.qcow2')), false)
    const seed = env.fake.world.seeds.get(path.join(paths.seeds, 'vm0-cidata.iso'))!
    assert.equal(seed.hostname, 'vm0')
    assert.equal(seed.fqdn, 'vm0.lago.local')
    assert.deepEqual(seed.authorizedKeys, [(await readFile(`${paths.privateKey}.pub`, 'utf8')).trim()])
    assert.equal(vm0.seed, paths.relative(path.join(paths.seeds, 'vm0-cidata.iso')))

    // init makes no network or domain; it leaves no open journal run and no lock.
    assert.deepEqual(env.fake.callLog(['net-start', 'vm-start']), [])
    assert.equal(await new Journal(path.join(paths.stateDir, 'journal')).interrupted(), undefined)
    assert.equal(await pathExists(PrefixLock.file(paths.stateDir)), false)
  })

  it('a failed disk rolls init back: no prefix directory, no leases', async () => {
    env.fake.failOn({method: 'image-overlay', nth: 2})
    await assert.rejects(env.init('p', await env.initFile('two', TWO_VMS)), (error: unknown) => isLagoError(error) && /image-overlay .*_root\.qcow2 failed \(injected\)/.test(error.message))
    assert.equal(await pathExists(path.join(env.dir, 'p')), false)
    const leases = await readdirOrEmpty(env.config.lago.lease_dir)
    assert.deepEqual(leases, [], 'the subnets were given back')
  })

  it('an unknown provider is refused before anything is made', async () => {
    const initFile = await env.initFile('two', TWO_VMS)
    const prefixPath = path.join(env.dir, 'p')
    await assert.rejects(
      planInit({prefixPath, initFile, config: env.config, provider: 'no-such-provider'}),
      (error: unknown) => isLagoError(error) && error.code === 'USAGE' && /No provider named "no-such-provider"/.test(error.message) && /fake-init/.test(error.hint ?? ''),
    )
    assert.equal(await pathExists(prefixPath), false)
  })
})

async function readdirOrEmpty(dir: string): Promise<string[]> {
  const {readdir} = await import('node:fs/promises')
  return (await readdir(dir).catch(() => [])).filter((f) => f.endsWith('.lease'))
}
