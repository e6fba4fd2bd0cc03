import assert from 'node:assert/strict'
import {chmod, mkdir, readdir, rm, stat, symlink, writeFile} from 'node:fs/promises'
import http from 'node:http'
import net, {type AddressInfo} from 'node:net'
import path from 'node:path'
import {execa} from 'execa'
import {
  ansibleInventory,
  copyFromGuest,
  orphanVerdict,
  PrefixPaths,
  TemplateStore,
  type GcFs,
  type OwnerClaim,
  type Prefix,
  type ResolvedTemplate,
  LibvirtProvider,
  providerEnvironment,
  type PrefixState,
  type VmState,
  parseInitFile,
  planNetwork,
  SubnetLeases,
} from '@lago/core'
import {checkArtifactPath} from '../../packages/core/src/collect/layout.js'
import {localImages} from '@lago/core'
import {vmDistros} from '../../packages/plugin-ovirt/src/lib/reposetup/distros.js'
import {readRepoSections} from '../../packages/plugin-ovirt/src/lib/reposetup/yum-repo-file.js'
import {startRepoServer} from '../../packages/plugin-ovirt/src/lib/serve/repo-server.js'
import {LAGO_BIN} from '../lib/harness.js'
import {assertRefusal, HostileWorld} from '../lib/hostile.js'

/** A guest's SFTP view: path → a directory's entries or a file's content and mode. */
type GuestTree = Record<string, {dir: string[]} | {content: string; mode: number}>

function stats(entry: GuestTree[string]) {
  const dir = 'dir' in entry
  return {isDirectory: () => dir, isFile: () => !dir, mode: dir ? 0o40755 : entry.mode, size: dir ? 0 : entry.content.length}
}

/** An ssh2 Client stand-in whose SFTP answers from `tree`, names and modes as a hostile guest reports them. */
function fakeGuest(tree: GuestTree) {
  const sftp = {
    stat: (p: string, cb: (e: Error | undefined, s?: unknown) => void) => (tree[p] ? cb(undefined, stats(tree[p])) : cb(new Error('No such file'))),
    readdir: (p: string, cb: (e: Error | undefined, list?: unknown) => void) => {
      const entry = tree[p]
      if (!entry || !('dir' in entry)) return cb(new Error('not a directory'))
      cb(
        undefined,
        entry.dir.map((filename) => ({filename, longname: filename, attrs: stats(tree[path.posix.join(p, filename)] ?? {content: 'x', mode: 0o644})})),
      )
    },
    fastGet: (remote: string, local: string, cb: (e?: Error) => void) => {
      const entry = tree[remote]
      const content = entry && 'content' in entry ? entry.content : 'escaped\n'
      writeFile(local, content).then(() => cb(), cb)
    },
    end: () => undefined,
  }
  return {sftp: (cb: (e: Error | undefined, s: unknown) => void) => cb(undefined, sftp)} as unknown as Parameters<typeof copyFromGuest>[0]
}

async function freePort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const {port} = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

function get(url: string): Promise<{status: number; body: string}> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        let body = ''
        res.on('data', (chunk: Buffer) => (body += chunk.toString()))
        res.on('end', () => resolve({status: res.statusCode ?? 0, body}))
      })
      .on('error', reject)
  })
}

describe('hostile guests, served trees, libvirt owner tags and prefix data: refused, nothing outside touched', function () {
  this.timeout(60_000)
  let world: HostileWorld
  let fingerprint: string

  before(async () => {
    world = await HostileWorld.create('host')
    fingerprint = await world.fingerprint()
  })
  afterEach(async () => assert.equal(await world.fingerprint(), fingerprint, 'the sentinel directory is untouched'))
  after(() => world.remove())

  describe('copy-from-vm: names the guest reports', () => {
    const names = ['../../sentinel/precious.txt', '..', '.', 'a/b', 'x\0y', '']
    for (const name of names) {
      it(`a guest file named ${JSON.stringify(name)}`, async () => {
        const out = path.join(world.dir, 'copies', String(names.indexOf(name)))
        await mkdir(out, {recursive: true})
        const guest = fakeGuest({'/data': {dir: ['ok.log', name]}, '/data/ok.log': {content: 'fine\n', mode: 0o644}})
        await assertRefusal(
          () => copyFromGuest(guest, '/data', out),
          2,
          new RegExp(`The guest reported the file name ${JSON.stringify(name).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} in /data: not a single file name`),
        )
        assert.deepEqual(await readdir(path.join(world.dir, 'copies')).then((n) => n.includes('sentinel')), false)
      })
    }

    it('a setuid mode (4755) is masked to 0755', async () => {
      const out = path.join(world.dir, 'copies', 'modes')
      await mkdir(out, {recursive: true})
      await copyFromGuest(fakeGuest({'/data': {dir: ['tool']}, '/data/tool': {content: '#!/bin/sh\n', mode: 0o104755}}), '/data', out)
      assert.equal(((await stat(path.join(out, 'data', 'tool'))).mode & 0o7777).toString(8), '755')
    })
  })

  describe('ovirt serve: only regular files under its root, no dotfiles', () => {
    let url: string
    let close: () => Promise<void>
    before(async () => {
      const root = path.join(world.dir, 'served')
      const prefix = {paths: new PrefixPaths(root), state: {nets: []}} as unknown as Prefix
      const repo = path.join(root, 'internal_repo')
      await mkdir(path.join(repo, 'el8', '.git'), {recursive: true})
      await writeFile(path.join(repo, 'el8', 'ok.rpm'), 'rpm\n')
      await writeFile(path.join(repo, 'el8', '.hidden'), 'hidden\n')
      await writeFile(path.join(repo, 'el8', '.git', 'config'), 'hidden\n')
      await symlink(path.join(world.sentinel, 'secret'), path.join(repo, 'el8', 'secret.rpm'))
      await symlink(world.sentinel, path.join(repo, 'outside'))
      const server = await startRepoServer(prefix, {host: '127.0.0.1', port: await freePort()})
      url = server.url
      close = server.close
    })
    after(() => close())

    it('serves a regular file (the control case)', async () => assert.deepEqual(await get(`${url}el8/ok.rpm`), {status: 200, body: 'rpm\n'}))
    for (const [what, request] of [
      ['a symlink to a file outside the root', 'el8/secret.rpm'],
      ['a file under a symlinked directory outside the root', 'outside/precious.txt'],
      ['a dotfile', 'el8/.hidden'],
      ['a file in a dot directory', 'el8/.git/config'],
      ['an encoded climb out of the root', '..%2f..%2fsentinel%2fsecret'],
      ['a double-encoded climb', '%252e%252e/sentinel/secret'],
      ['a directory', 'el8/'],
      ['a NUL in the path', 'el8/ok.rpm%00.txt'],
    ] as const) {
      it(`answers 404 for ${what}`, async () => {
        const response = await get(`${url}${request}`)
        assert.equal(response.status, 404, response.body)
        assert.doesNotMatch(response.body, /do not read|keep me|hidden/)
      })
    }
  })

  describe('gc: only provable orphans of your own', () => {
    const uid = 1000
    const claim = (over: Partial<OwnerClaim> = {}): OwnerClaim => ({kind: 'domain', name: 'lago-0123abcd-vm0', prefixId: '0123abcd', prefixPath: '/home/alice/env', ...over})
    const fs = (files: Record<string, string | NodeJS.ErrnoException>, owners: Record<string, number>): GcFs => ({
      readFile: async (file) => {
        const value = files[file] ?? Object.assign(new Error('ENOENT'), {code: 'ENOENT'})
        if (typeof value === 'string') return value
        throw value
      },
      lstat: async (file) => {
        if (owners[file] === undefined) throw Object.assign(new Error('ENOENT'), {code: 'ENOENT'})
        return {uid: owners[file]}
      },
    })
    const uuidFile = '/home/alice/env/.lago/uuid'

    it('keeps an object whose uuid file cannot be read (EACCES proves nothing)', async () => {
      const reason = await orphanVerdict(claim(), {uid}, fs({[uuidFile]: Object.assign(new Error('EACCES'), {code: 'EACCES'})}, {'/home/alice': uid}))
      assert.match(reason ?? '', /\/home\/alice\/env\/\.lago\/uuid cannot be read \(EACCES\), so the prefix may still exist/)
    })
    it('keeps an object whose prefix still holds its uuid', async () => {
      assert.match((await orphanVerdict(claim(), {uid}, fs({[uuidFile]: '0123abcdeeee\n'}, {}))) ?? '', /still exists/)
    })
    it("keeps another user's orphan", async () => {
      assert.match((await orphanVerdict(claim(), {uid}, fs({}, {'/home/alice': 1001}))) ?? '', /\/home\/alice belongs to uid 1001, not to you/)
    })
    it('keeps an object whose owner tag does not match its name (forged metadata)', async () => {
      assert.match((await orphanVerdict(claim({name: 'someone-elses-vm'}), {uid}, fs({}, {'/home/alice': uid}))) ?? '', /does not match its name/)
    })
    it('keeps an object whose owner tag names a relative path', async () => {
      assert.match((await orphanVerdict(claim({prefixPath: 'env'}), {uid}, fs({}, {}))) ?? '', /does not match its name/)
    })
    it('removes your own orphan whose uuid file is gone (control case)', async () => {
      assert.equal(await orphanVerdict(claim(), {uid}, fs({}, {'/home/alice': uid})), undefined)
    })
    it('removes your own orphan whose path now holds another prefix', async () => {
      assert.equal(await orphanVerdict(claim(), {uid}, fs({[uuidFile]: 'ffffffff0000\n'}, {'/home/alice/env': uid})), undefined)
    })
  })

  describe('prefix and repository data reaching paths, inventories and scripts', () => {
    const fakePrefix = (vm: Record<string, unknown>) =>
      ({
        paths: new PrefixPaths(path.join(world.dir, 'p')),
        state: {vms: [{name: 'vm0', sshUser: 'root', groups: [], metadata: {}, disks: [], nics: [], ...vm}], nets: []},
        managementIp: () => '10.0.0.2',
      }) as unknown as Prefix

    it('a group that would break the INI inventory', async () => {
      await assertRefusal(async () => ansibleInventory(fakePrefix({groups: ['web]\n[all:vars']})), 2, /"web\]\\n\[all:vars" is not a valid inventory name/)
    })
    it('a distro in the prefix state climbing out of internal_repo', async () => {
      await assertRefusal(() => vmDistros(fakePrefix({metadata: {distro: '../../sentinel'}})), 2, /domains\.vm0\.metadata\.distro: "\.\.\/\.\.\/sentinel" is not a valid distro name/)
    })
    it("a distro in a stored template's metadata climbing out", async () => {
      const store = path.join(world.dir, 'distro-store')
      await mkdir(store, {recursive: true})
      await writeFile(path.join(store, 'r:t:v1'), 'image')
      await writeFile(path.join(store, 'r:t:v1.metadata'), JSON.stringify({distro: '../../../sentinel', lago: {format: 'qcow2'}}))
      const disks = [{name: 'root', dev: 'vda', format: 'qcow2', path: 'x', template: {id: 'r:t:v1', storePath: path.join(store, 'r:t:v1')}}]
      await assertRefusal(() => vmDistros(fakePrefix({disks})), 2, /the metadata of template r:t:v1 .*field "distro": "\.\.\/\.\.\/\.\.\/sentinel" is not a valid distro name/)
    })
    it('a yum repository section climbing out of the reposync cache', async () => {
      const file = path.join(world.dir, 'hostile.repo')
      await writeFile(file, '[../../sentinel-el8]\nbaseurl=http://x/\n')
      await assertRefusal(() => readRepoSections(file, ['el8']), 2, /hostile\.repo: section \[.*\] is not a valid repository id/)
    })
    it('an artifact path with a newline (a guestfish command of its own)', async () => {
      await assertRefusal(async () => checkArtifactPath('vm0', '/var/log/x\n!touch /tmp/pwned'), 2, /Artifact "\/var\/log\/x\\n!touch \/tmp\/pwned" of VM vm0 contains the control character "\\n"/)
    })
    it('a qemu-img failure names the disk', async () => {
      const target = path.join(world.dir, 'no-such-dir', 'x.qcow2')
      await assertRefusal(
        () => localImages.createOverlay(target, {path: path.join(world.dir, 'missing.img'), format: 'raw'}, {subject: 'domains.vm0.disks (data)', code: 'INIT_FILE'}),
        2,
        /^domains\.vm0\.disks \(data\): qemu-img create failed: /,
      )
    })
  })

  describe('the store uses an entry only as it was verified', () => {
    async function entry(name: string, mode: number, recordedSize: number): Promise<{store: TemplateStore; template: ResolvedTemplate}> {
      const dir = path.join(world.dir, 'stores', name)
      await mkdir(dir, {recursive: true})
      await writeFile(path.join(dir, 'r:t:v1'), 'image bytes')
      await chmod(path.join(dir, 'r:t:v1'), mode)
      await writeFile(path.join(dir, 'r:t:v1.metadata'), JSON.stringify({lago: {format: 'qcow2', size: recordedSize, hash: 'sha256:00', verified: true}}))
      const template = {id: 'r:t:v1', repoName: 'r', template: 't', version: 'v1', image: '/nonexistent'} as ResolvedTemplate
      return {store: new TemplateStore(dir), template}
    }
    it('a stored image another group member could have rewritten (mode 0664)', async () => {
      const {store, template} = await entry('writable', 0o664, 11)
      await assertRefusal(() => store.ensure(template), 2, /Template store entry .*r:t:v1 is writable by group or others \(mode 664\)/)
    })
    it('a stored image whose size changed after verification', async () => {
      const {store, template} = await entry('resized', 0o444, 4096)
      await assertRefusal(() => store.ensure(template), 2, /Template store entry .*r:t:v1 is 11 bytes, but 4096 were verified/)
    })
  })

  describe('the store lock lost mid-download (another process took the entry over)', () => {
    it('aborts the download: nothing stored, no partial file left', async function () {
      this.timeout(30_000)
      const server = http.createServer((_req, res) => {
        res.writeHead(200, {'content-length': 1024 * 1024})
        const timer = setInterval(() => res.write(Buffer.alloc(1024)), 20) // about 10 s for the whole body
        res.on('close', () => clearInterval(timer))
      })
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      const dir = path.join(world.dir, 'stores', 'lock-lost')
      const store = new TemplateStore(dir)
      const image = `http://127.0.0.1:${(server.address() as AddressInfo).port}/img.qcow2`
      const template = {id: 'r:t:v1', repoName: 'r', template: 't', version: 'v1', image, checksum: {algorithm: 'sha256', hex: '0'.repeat(64)}} as ResolvedTemplate
      const pulling = store.ensure(template)
      await new Promise((resolve) => setTimeout(resolve, 1000))
      await rm(path.join(dir, 'r:t:v1.lock'), {recursive: true, force: true}) // as a stale-lock takeover would
      try {
        await assertRefusal(() => pulling, 1, /Template r:t:v1: the store lock .*r:t:v1\.lock was lost .*; the download was abandoned and nothing was stored/)
      } finally {
        server.closeAllConnections()
        server.close()
      }
      assert.deepEqual(
        (await readdir(dir)).filter((n) => !n.startsWith('.')),
        [],
      )
    })
  })

  describe('subnets', () => {
    it('a net with a fixed gateway in the lease pool and a leased net never share a /24', async () => {
      const dir = path.join(world.dir, 'nets')
      const paths = new PrefixPaths(path.join(dir, 'prefix'))
      await mkdir(paths.stateDir, {recursive: true})
      await writeFile(paths.uuid, 'feedfacefeedface')
      const spec = await parseInitFile(
        'domains:\n  vm0: {nics: [{net: fixed}, {net: leased}], disks: [{type: template, template_name: t}]}\nnets:\n  fixed: {gw: 10.213.0.1, management: true}\n  leased: {}\n',
        path.join(dir, 'LagoInitFile'),
        {},
      )
      const leases = new SubnetLeases(path.join(dir, 'subnets'), '10.213.0.0', 2)
      const owner = {uuidFile: paths.uuid, uuid: 'feedfacefeedface'}
      const state = await planNetwork(spec, {uuid: owner.uuid, id: 'feedface', paths, leases, owner})
      const [fixed, leased] = state.nets.map((n) => n.subnet)
      assert.equal(fixed, '10.213.0.0')
      assert.equal(leased, '10.213.1.0', "the leased net skips the fixed net's subnet")
      assert.notEqual(state.vms[0].nics[0].ip.split('.').slice(0, 3).join('.'), state.vms[0].nics[1].ip.split('.').slice(0, 3).join('.'))
    })
  })

  describe('paths with commas', () => {
    it('a snapshot overlay in a prefix whose path has a comma reaches virsh --diskspec with the comma doubled', async () => {
      const paths = new PrefixPaths(path.join(world.dir, 'a,b'))
      const vm = {libvirtName: 'lago-x-vm0', disks: [{name: 'root', dev: 'vda', format: 'qcow2', path: 'images/vm0_root.qcow2'}]} as unknown as VmState
      const provider = new LibvirtProvider(
        {uri: 'test:///default', domain_type: 'qemu', qemu_user: '', emulator: ''},
        providerEnvironment(paths, {id: 'x', vms: [vm], nets: []} as unknown as PrefixState),
      )
      let args: readonly string[] = []
      provider.virsh.run = async (given) => ((args = given), {exitCode: 0, stdout: '', stderr: ''})
      await provider.snapshotRunningDisks(vm, 'snap', new Map([['vda', path.join(paths.images, 'vm0_root.snap,1.qcow2')]]))
      assert.ok(args.includes(`vda,snapshot=external,file=${path.join(world.dir, 'a,,b', '.lago', 'images', 'vm0_root.snap,,1.qcow2')}`), args.join(' '))
    })
  })

  describe('Ctrl-C while init plans', () => {
    /** `lago init` against a repository server that accepts and never answers, sent `signals` once it asks. */
    async function interruptedInit(name: string, signals: NodeJS.Signals[]): Promise<{exitCode: number; stderr: string; ms: number; dir: string}> {
      const sockets: net.Socket[] = []
      const server = net.createServer((socket) => sockets.push(socket))
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      const repo = `http://127.0.0.1:${(server.address() as AddressInfo).port}/repo.json`
      const dir = path.join(world.dir, name)
      await mkdir(dir, {recursive: true})
      const initFile = path.join(dir, 'LagoInitFile')
      await writeFile(initFile, 'domains:\n  vm0: {nics: [{net: lago}], disks: [{type: template, template_name: tiny}]}\nnets: {lago: {}}\n')
      const child = execa(LAGO_BIN, ['init', path.join(dir, 'prefix'), initFile, '--template-repo-path', repo], {cwd: dir, reject: false, env: world.env({LAGO__DOWNLOAD__STALL_TIMEOUT: '60'})})
      const deadline = Date.now() + 20_000
      while (sockets.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50))
      assert.ok(sockets.length > 0, 'init never asked for the repository')
      const sent = Date.now()
      for (const signal of signals) process.kill(child.pid!, signal)
      const result = await child
      for (const socket of sockets) socket.destroy()
      server.close()
      return {exitCode: result.exitCode ?? -1, stderr: String(result.stderr), ms: Date.now() - sent, dir}
    }

    it('a repository fetch that hangs is interrupted at once: exit 130, nothing made', async () => {
      const {exitCode, stderr, ms, dir} = await interruptedInit('interrupt', ['SIGINT'])
      assert.equal(exitCode, 130, stderr)
      assert.ok(ms < 5000, `took ${ms} ms to stop`)
      assert.match(stderr, /^Error: Interrupted by SIGINT/m)
      assert.doesNotMatch(stderr, /^\s+at /m)
      assert.deepEqual(await readdir(dir), ['LagoInitFile'], 'no prefix')
      assert.deepEqual(
        (await readdir(world.store).catch(() => [] as string[])).filter((n) => !n.startsWith('.')),
        [],
      )
    })
  })
})
