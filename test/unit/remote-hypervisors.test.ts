import assert from 'node:assert/strict'
import {mkdtemp, writeFile} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import {DEFAULT_CONFIG, isLagoError, isRemoteUri, loadConfig, mostFreeMemory, namedHypervisor, parseSshUri, placedConfig, RemoteFiles, type HostMemory, type LagoConfig} from '@lago/core'

const H1 = 'qemu+ssh://root@10.0.0.1/system?keyfile=/keys/h1&no_verify=1'
const H2 = 'qemu+ssh://lago@virt2.example.com:2222/system'

const config = (hypervisors: Record<string, string> = {}): LagoConfig => ({...structuredClone(DEFAULT_CONFIG), hypervisors})

describe('remote hypervisors: URIs, settings, placement', () => {
  it('reads the SSH side of a qemu+ssh:// URI as virsh does', () => {
    assert.deepEqual(parseSshUri(H1), {uri: H1, host: '10.0.0.1', port: undefined, user: 'root', keyfile: '/keys/h1', noVerify: true})
    assert.deepEqual(parseSshUri(H2), {uri: H2, host: 'virt2.example.com', port: 2222, user: 'lago', keyfile: undefined, noVerify: false})
    assert.equal(isRemoteUri(H1), true)
    assert.equal(isRemoteUri('qemu:///system'), false)
    assert.throws(
      () => parseSshUri('qemu+tcp://host/system'),
      (error: unknown) => isLagoError(error) && /over SSH only, not qemu\+tcp/.test(error.message),
    )
  })

  it('reads [hypervisors] from files and LAGO__HYPERVISORS__NAME, and refuses what is not a remote URI', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'lago-hypervisors-'))
    await writeFile(path.join(dir, 'lago.conf'), `[hypervisors]\nh1 = ${H1}\n[remote]\ndir = /srv/lago\n`)
    const loaded = await loadConfig({systemDir: dir, userFile: path.join(dir, 'none.conf'), env: {LAGO__HYPERVISORS__H2: H2}})
    assert.deepEqual(loaded.hypervisors, {h1: H1, h2: H2})
    assert.equal(loaded.remote.dir, '/srv/lago')
    await assert.rejects(
      loadConfig({systemDir: dir, userFile: path.join(dir, 'none.conf'), env: {LAGO__HYPERVISORS__BAD: '/var/run/libvirt'}}),
      (error: unknown) => isLagoError(error) && error.code === 'CONFIG' && /hypervisors\.bad/.test(error.message),
    )
  })

  it('names hypervisors by configured name, URI or "local", and lists the names for an unknown one', () => {
    const settings = config({h1: H1, h2: H2})
    assert.deepEqual(namedHypervisor(settings, 'h2'), {name: 'h2', uri: H2})
    assert.deepEqual(namedHypervisor(settings, H1), {name: 'h1', uri: H1})
    assert.deepEqual(namedHypervisor(settings, 'qemu+ssh://root@other/system'), {name: 'other', uri: 'qemu+ssh://root@other/system'})
    assert.deepEqual(namedHypervisor(settings, 'local'), {name: 'local', uri: 'qemu:///system'})
    assert.throws(
      () => namedHypervisor(settings, 'h3'),
      (error: unknown) => isLagoError(error) && /No hypervisor named "h3"/.test(error.message) && /h1, h2/.test(error.hint ?? ''),
    )
  })

  it('places on the host with the most free memory that fits, the first on a tie, and refuses with the numbers', () => {
    const host = (name: string, availableMiB: number, promisedMiB: number, error?: string): HostMemory => ({
      hypervisor: {name, uri: `qemu+ssh://root@${name}/system`},
      availableMiB,
      promisedMiB,
      freeMiB: availableMiB - promisedMiB,
      error,
    })
    assert.equal(mostFreeMemory([host('a', 4000, 1000), host('b', 4000, 0)], 512).name, 'b')
    assert.equal(mostFreeMemory([host('a', 4000, 0), host('b', 4000, 0)], 512).name, 'a')
    assert.equal(mostFreeMemory([host('a', 0, 0, 'unreachable'), host('b', 1024, 0)], 512).name, 'b')
    assert.throws(
      () => mostFreeMemory([host('a', 2048, 1024), host('b', 0, 0, 'Connection refused')], 2048),
      (error: unknown) => isLagoError(error) && /No hypervisor has 2048 MiB free.*a: 1024 MiB free \(2048 available - 1024 promised.*b: unreachable \(Connection refused\)/.test(error.message),
    )
  })

  it('applies a placement to the settings: its URI, its directory, its own subnet leases', () => {
    const base = config()
    const placed = placedConfig(base, {name: 'h1', uri: H1, dir: '/srv/lago'})
    assert.equal(placed.libvirt.uri, H1)
    assert.equal(placed.remote.dir, '/srv/lago')
    assert.equal(placed.lago.lease_dir, path.join(base.lago.lease_dir, 'hosts', 'h1'))
    assert.equal(placedConfig(base, {name: 'local', uri: 'qemu:///system'}).lago.lease_dir, base.lago.lease_dir)
    assert.equal(placedConfig(base, undefined), base)
  })

  it("maps the prefix's files to its directory on the host, and nothing outside the prefix", () => {
    const files = new RemoteFiles({} as never, '/srv/lago', '/home/me/env', '0123456789abcdef0123456789abcdef')
    assert.equal(files.mirrored('/home/me/env/.lago/images/vm0_root.qcow2'), '/srv/lago/prefixes/0123456789abcdef0123456789abcdef/.lago/images/vm0_root.qcow2')
    assert.equal(files.mirrored('/home/me/env-other/disk.qcow2'), undefined)
    assert.equal(files.mirrored('/var/lib/lago/store/tiny.qcow2'), undefined)
  })
})
