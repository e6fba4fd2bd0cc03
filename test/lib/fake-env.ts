import type {AddressInfo} from 'node:net'
import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import ssh2 from 'ssh2'
import {DEFAULT_CONFIG, FakeProvider, generateKeyPair, plainRunner, planInit, registerProvider, type LagoConfig} from '@lago/core'

/**
 * A prefix world for unit tests that runs the real init, prefix, journal and lock code on
 * the in-memory FakeProvider: a temp dir with its own lease pool and store, and a loopback
 * SSH server every guest's SSH endpoint points at (it accepts any key).
 */
export class FakeEnvironment {
  readonly fake: FakeProvider
  private server?: ssh2.Server

  private constructor(
    readonly dir: string,
    readonly config: LagoConfig,
    providerName: string,
  ) {
    this.fake = new FakeProvider({name: providerName})
    registerProvider(this.fake.factory())
  }

  /** `providerName` differs per test file: the registry is process-wide. */
  static async create(providerName: string): Promise<FakeEnvironment> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'lago-fake-'))
    const config = structuredClone(DEFAULT_CONFIG)
    config.lago.lease_dir = path.join(dir, 'subnets')
    config.lago.template_store = path.join(dir, 'store')
    config.lago.template_repos = path.join(dir, 'repos')
    config.lago.subnet_first = '10.251.0.0'
    config.lago.subnet_count = 8
    config.lago.provider = providerName
    return new FakeEnvironment(dir, config, providerName)
  }

  /** Guests' SSH answers here: any login succeeds, every command exits 0 without output. */
  async serveSsh(): Promise<void> {
    const hostKey = (await generateKeyPair('host')).privateKey
    const server = new ssh2.Server({hostKeys: [hostKey]}, (client) => {
      client.on('authentication', (ctx) => ctx.accept())
      client.on('session', (accept) => {
        accept().on('exec', (acceptExec) => {
          const channel = acceptExec()
          channel.exit(0)
          channel.end()
        })
      })
      client.on('error', () => {})
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const port = (server.address() as AddressInfo).port
    this.server = server
    this.fake.world.sshEndpoint = () => ({host: '127.0.0.1', port})
  }

  /** An init file in the temp dir, next to a boot image `base.img` its `file` disks may name; `body` is its YAML. */
  async initFile(name: string, body: string): Promise<string> {
    const file = path.join(this.dir, `${name}.yaml`)
    await writeFile(path.join(this.dir, 'base.img'), Buffer.alloc(512))
    await writeFile(file, body)
    return file
  }

  /** `lago init` in-process: plan, run the tasks, roll back on failure (rethrown). */
  async init(name: string, initFile: string): Promise<string> {
    const prefixPath = path.join(this.dir, name)
    const plan = await planInit({prefixPath, initFile, config: this.config})
    try {
      await plainRunner()(plan.tasks)
    } catch (error) {
      await plan.rollback()
      throw error
    }
    return prefixPath
  }

  async close(): Promise<void> {
    this.server?.close()
    await rm(this.dir, {recursive: true, force: true})
  }
}

/** Two VMs on a management net and a second net; their disks need no template. */
export const TWO_VMS = `
domains:
  vm0:
    memory: 256
    nics: [{net: mgmt}, {net: data}]
    disks: [{name: root, dev: vda, type: file, path: base.img, format: raw, make_a_copy: true}, {name: data, dev: vdb, type: empty, size: 2G}]
  vm1:
    memory: 256
    nics: [{net: mgmt, ip: 192.168.0.50}]
    disks: [{name: root, dev: vda, type: file, path: base.img, format: raw, make_a_copy: true}]
nets:
  mgmt: {management: true}
  data: {}
`
