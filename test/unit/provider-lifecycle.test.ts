import assert from 'node:assert/strict'
import {readFile} from 'node:fs/promises'
import {beginChange, isLagoError, loadConfig, plainRunner, Prefix, PrefixPaths, saveVms, type JournalEntry, type PrefixChange} from '@lago/core'
import {FakeEnvironment, TWO_VMS} from '../lib/fake-env.js'

describe('provider seam: start, stop, rollback and status through the fake provider', () => {
  let env: FakeEnvironment
  let paths: PrefixPaths
  let id: string

  before(async () => {
    env = await FakeEnvironment.create('fake-lifecycle')
    await env.serveSsh()
    paths = new PrefixPaths(await env.init('p', await env.initFile('two', TWO_VMS)))
  })
  after(() => env.close())
  beforeEach(() => {
    env.fake.world.calls.length = 0
    env.fake.world.failures.length = 0
  })

  /** A changing verb as the CLI runs it: under the lock, with a journal run. */
  async function changing(verb: string): Promise<{prefix: Prefix; change: PrefixChange}> {
    const change = (await beginChange(paths, env.config, {verb, wait: false}))!
    const prefix = await Prefix.open(paths, env.config)
    prefix.journal = change.run
    id = prefix.state.id
    return {prefix, change}
  }

  async function start(names: string[] = []): Promise<{journal: JournalEntry[]}> {
    const {prefix, change} = await changing('start')
    const {tasks, rollback} = await prefix.startTasks(names)
    try {
      await plainRunner()(tasks)
    } catch (error) {
      const journal = await runEntries(change)
      await rollback()
      await change.end('rolled-back')
      throw Object.assign(error as Error, {journal})
    }
    const journal = await runEntries(change)
    await change.end('ok')
    return {journal}
  }

  async function stop(names: string[] = []): Promise<{journal: JournalEntry[]}> {
    const {prefix, change} = await changing('stop')
    await prefix.stop(names)
    const journal = await runEntries(change)
    await change.end('ok')
    return {journal}
  }

  const net = (name: string) => `lago-${id}-${name}`
  const vm = (name: string) => `lago-${id}-${name}`

  it('start: networks first, then the VMs, each recorded in the journal before it is made', async () => {
    const {journal} = await start()
    const log = env.fake.callLog(['net-start', 'vm-start'])
    assert.deepEqual(log.slice(0, 2), [`net-start ${net('mgmt')}`, `net-start ${net('data')}`])
    assert.deepEqual(log.slice(2).sort(), [`vm-start ${vm('vm0')}`, `vm-start ${vm('vm1')}`])
    for (const [kind, name] of [
      ['network', net('mgmt')],
      ['domain', vm('vm0')],
    ]) {
      const steps = journal.filter((e) => e.kind === kind && e.name === name).map((e) => e.t)
      assert.deepEqual(steps, ['intent', 'done'], `${kind} ${name}`)
    }
    const domain = env.fake.world.domains.get(vm('vm0'))!
    assert.deepEqual(domain.disks, [paths.resolve('images/vm0_root.qcow2'), paths.resolve('images/vm0_data.qcow2'), paths.resolve('seeds/vm0-cidata.iso')])
  })

  it('status comes from the provider: running VMs, active networks; a VM the hypervisor lost is down', async () => {
    const prefix = await Prefix.open(paths, env.config)
    let status = await prefix.status()
    assert.deepEqual(
      status.vms.map((v) => [v.name, v.state]),
      [
        ['vm0', 'running'],
        ['vm1', 'running'],
      ],
    )
    assert.ok(status.nets.every((n) => n.active))
    env.fake.world.domains.delete(vm('vm1'))
    status = await prefix.status()
    assert.equal(status.vms.find((v) => v.name === 'vm1')!.state, 'down')
  })

  it('a failed VM start rolls back only what this start made, not the VM and networks that ran before', async () => {
    // vm0 and both networks run already; this start makes vm1 only, and it fails.
    env.fake.failOn({method: 'vm-start', match: (name) => name === vm('vm1')})
    const error = await start().then(
      () => assert.fail('start succeeded'),
      (e: unknown) => e as Error & {journal: JournalEntry[]},
    )
    assert.ok(isLagoError(error) && /vm-start .*vm1 failed \(injected\)/.test(error.message), String(error))
    assert.deepEqual(env.fake.callLog(['net-start', 'vm-start', 'vm-stop', 'net-stop']), [`vm-start ${vm('vm1')}`, `vm-stop ${vm('vm1')}`])
    assert.deepEqual(
      error.journal.filter((e) => e.kind).map((e) => `${e.t} ${e.kind} ${e.name}`),
      [`intent domain ${vm('vm1')}`],
      'the journal shows the domain it was making, never done',
    )
    assert.deepEqual([...env.fake.world.domains.keys()], [vm('vm0')], 'vm0, running before, still runs')
    assert.equal(env.fake.world.networks.size, 2)
  })

  it('stop: VMs first, then the networks no running VM uses; each removal journalled', async () => {
    const {journal} = await stop(['vm0'])
    assert.deepEqual(env.fake.callLog(['vm-stop', 'net-stop']), [`vm-stop ${vm('vm0')}`, `net-stop ${net('mgmt')}`, `net-stop ${net('data')}`])
    assert.deepEqual(
      journal.filter((e) => e.kind).map((e) => `${e.t} ${e.kind} ${e.name}`),
      [
        `removing domain ${vm('vm0')}`,
        `removed domain ${vm('vm0')}`,
        `removing network ${net('mgmt')}`,
        `removed network ${net('mgmt')}`,
        `removing network ${net('data')}`,
        `removed network ${net('data')}`,
      ],
    )
    assert.equal(env.fake.world.domains.size + env.fake.world.networks.size, 0)
  })

  it('stop --save keeps the networks its saved VMs use (a suspended environment), the resume starts none; a plain stop takes them down and keeps the memory', async () => {
    await start()
    const save = async (names: string[]) => {
      const {prefix, change} = await changing('stop')
      await saveVms(
        prefix,
        names.map((name) => prefix.vm(name)),
      )
      await prefix.stop(names, {keepSavedNetworks: true})
      await change.end('ok')
    }
    // vm0 alone: vm1 still runs on mgmt; data, which only the saved vm0 uses, stays up too.
    await save(['vm0'])
    assert.deepEqual([...env.fake.world.domains.keys()], [vm('vm1')])
    assert.deepEqual([...env.fake.world.networks.keys()].sort(), [net('data'), net('mgmt')])
    await save(['vm1'])
    assert.equal(env.fake.world.domains.size, 0)
    assert.equal(env.fake.world.networks.size, 2, 'both networks stay up while their VMs are saved')
    env.fake.world.calls.length = 0
    await start()
    assert.deepEqual(
      env.fake
        .callLog(['net-start', 'vm-restore', 'vm-start'])
        .filter((c) => !c.startsWith('vm-start'))
        .sort(),
      [`vm-restore ${vm('vm0')}`, `vm-restore ${vm('vm1')}`],
    )
    await save(['vm0', 'vm1'])
    env.fake.world.calls.length = 0
    await stop()
    assert.deepEqual(env.fake.callLog(['net-stop']).sort(), [`net-stop ${net('data')}`, `net-stop ${net('mgmt')}`])
    const prefix = await Prefix.open(paths, env.config)
    assert.deepEqual(Object.keys(prefix.state.saved ?? {}).sort(), ['vm0', 'vm1'], 'a plain stop keeps the saved memory')
    env.fake.world.calls.length = 0
    await start()
    assert.deepEqual(env.fake.callLog(['net-start']).sort(), [`net-start ${net('data')}`, `net-start ${net('mgmt')}`])
    assert.deepEqual(env.fake.callLog(['vm-restore']).sort(), [`vm-restore ${vm('vm0')}`, `vm-restore ${vm('vm1')}`])
    await stop()
  })

  it('a network start failure removes the networks this start made, in reverse order, and starts no VM', async () => {
    env.fake.failOn({method: 'net-start', nth: 2})
    await assert.rejects(start(), /net-start .*data failed \(injected\)/)
    assert.deepEqual(env.fake.callLog(['net-start', 'vm-start', 'net-stop', 'vm-stop']), [`net-start ${net('mgmt')}`, `net-start ${net('data')}`, `net-stop ${net('data')}`, `net-stop ${net('mgmt')}`])
    assert.equal(env.fake.world.networks.size, 0)
  })

  it('start of one VM starts only the networks it uses; a VM on a net another start made keeps it', async () => {
    await start(['vm1'])
    assert.deepEqual(env.fake.callLog(['net-start', 'vm-start']), [`net-start ${net('mgmt')}`, `vm-start ${vm('vm1')}`])
    await start()
    assert.deepEqual(env.fake.callLog(['net-start', 'vm-start']).slice(2), [`net-start ${net('data')}`, `vm-start ${vm('vm0')}`], 'what runs is not started again')
  })

  it('snapshot and revert go through the provider: live layers for running VMs, overlays, old layers removed', async () => {
    const {createSnapshot, revertSnapshot} = await import('@lago/core')
    const {prefix, change} = await changing('snapshot')
    await createSnapshot(prefix, 'first')
    await change.end('ok')
    assert.deepEqual(env.fake.callLog(['vm-snapshot']).sort(), [`vm-snapshot ${vm('vm0')} first`, `vm-snapshot ${vm('vm1')} first`])
    const layer = paths.resolve(prefix.state.vms[0].disks[0].path)
    assert.match(layer, /vm0_root\.1\.qcow2$/)
    assert.equal(env.fake.world.images.get(layer)!.backing!.path, paths.resolve('images/vm0_root.qcow2'))

    env.fake.world.calls.length = 0
    const again = await changing('revert')
    const restart = await revertSnapshot(again.prefix, 'first')
    await again.change.end('ok')
    assert.deepEqual(restart.sort(), ['vm0', 'vm1'])
    const calls = env.fake.callLog(['vm-stop', 'net-stop', 'image-info', 'image-overlay', 'image-remove'])
    assert.ok(calls.indexOf(`vm-stop ${vm('vm0')}`) < calls.findIndex((c) => c.startsWith('image-overlay')), calls.join('\n'))
    assert.ok(calls.includes(`image-remove ${layer}`), 'the layer written since the snapshot is thrown away')
    assert.equal(env.fake.world.images.has(layer), false)
  })

  it("cleanup of a prefix whose state is corrupt removes its objects by owner tag, never another prefix's", async () => {
    const {cleanupPrefix} = await import('@lago/core')
    const {writeFile} = await import('node:fs/promises')
    await start()
    env.fake.world.calls.length = 0
    const other = {prefixId: 'other', prefixPath: '/elsewhere', name: 'x'}
    env.fake.world.domains.set('lago-other-x', {vm: {...env.fake.world.domains.get(vm('vm0'))!.vm, libvirtName: 'lago-other-x'}, state: 'running', disks: [], owner: other})
    const saved = await readFile(paths.state, 'utf8')
    await writeFile(paths.state, '{corrupt')
    try {
      await cleanupPrefix(paths, env.config)
    } finally {
      await writeFile(paths.state, saved)
    }
    assert.deepEqual([...env.fake.world.domains.keys()], ['lago-other-x'])
    assert.equal(env.fake.world.networks.size, 0)
    assert.deepEqual(
      env.fake
        .callLog(['remove-domain', 'remove-network'])
        .slice(0, 2)
        .map((c) => c.split(' ')[0]),
      ['remove-domain', 'remove-domain'],
      'domains before networks',
    )
    env.fake.world.domains.clear()
  })

  it('the provider setting reaches SDK users too: openPrefix-style config loading keeps the recorded provider', async () => {
    const config = await loadConfig({overrides: {lago: {provider: 'libvirt'}}})
    const prefix = await Prefix.open(paths, {...config, lago: {...config.lago, lease_dir: env.config.lago.lease_dir}})
    assert.equal(prefix.provider.name, 'fake-lifecycle', 'a prefix stays on the provider it was made on')
  })
})

/** The journal entries of this change's run so far. */
async function runEntries(change: PrefixChange): Promise<JournalEntry[]> {
  return (await change.run.journal.entries()).filter((e) => e.run === change.run.id)
}
