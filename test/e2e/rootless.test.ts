import assert from 'node:assert/strict'
import {mkdir, readdir, readFile, rm, stat, symlink, writeFile} from 'node:fs/promises'
import path from 'node:path'
import {execa} from 'execa'
import {guestImage, LAGO_BIN, ONE_VM_INIT_FILE, Sandbox} from '../lib/harness.js'

// Rootless mode: ordinary users (no group, no polkit rule) run environments on qemu:///session.
// The test runs as root inside the lago-test namespace; each user's lago runs there too
// (runuser keeps the namespace), so the session libvirtd it spawns, the loopback multicast
// segments and the forwarded ports all stay inside it.

const INIT_A = `
domains:
  vm0:
    memory: 256
    vcpu: 1
    nics: [{net: mgmt}, {net: data}]
    disks: [{type: template, template_name: tiny, name: root, dev: vda}]
    artifacts: [/etc/hostname]
    deploy-scripts: [deploy.sh]
  vm1:
    memory: 256
    vcpu: 1
    nics: [{net: mgmt}, {net: data}]
    disks: [{type: template, template_name: tiny, name: root, dev: vda}]
nets:
  mgmt: {type: nat, management: true}
  data: {type: nat}
`

interface Run {
  exitCode: number
  /** stdout and stderr, interleaved */
  out: string
  stdout: string
}

/** An unprivileged user made for the test, with a work directory holding a template repository and an init file. */
class TestUser {
  uid = 0
  constructor(
    readonly name: string,
    /** More environment for every lago run (e.g. LAGO_SYSTEM_STORE). */
    readonly extraEnv: string[] = [],
  ) {}

  get home() {
    return `/home/${this.name}`
  }
  get work() {
    return path.join(this.home, 'work')
  }
  get runtimeDir() {
    return `/run/user/${this.uid}`
  }

  async create(initFile: string): Promise<void> {
    await this.remove()
    await execa('useradd', ['--create-home', '--shell', '/bin/sh', this.name])
    this.uid = Number((await execa('id', ['-u', this.name])).stdout.trim())
    await mkdir(this.runtimeDir, {recursive: true, mode: 0o700})
    const image = guestImage()
    const repo = path.join(this.work, 'repo')
    await mkdir(repo, {recursive: true})
    await symlink(image, path.join(repo, 'tiny-v1.qcow2'))
    await writeFile(path.join(repo, 'tiny-v1.qcow2.hash'), (await readFile(`${image}.sha256`, 'utf8')).trim().split(/\s+/)[0] + '\n')
    await writeFile(path.join(repo, 'tiny-v1.qcow2.metadata'), await readFile(`${image}.metadata`))
    const templates = {tiny: {versions: {v1: {source: 'local', handle: 'tiny-v1.qcow2', timestamp: 1_700_000_000}}}}
    await writeFile(path.join(this.work, 'repo.json'), JSON.stringify({name: 'lago-test', sources: {local: {type: 'file', args: {root: repo}}}, templates}))
    await writeFile(path.join(this.work, 'init.yaml'), initFile)
    await execa('chown', ['-R', `${this.name}:`, this.work, this.runtimeDir])
  }

  /** lago as this user, with nothing of root's environment but PATH. */
  async lago(args: string[], timeout = 600_000): Promise<Run> {
    const env = [
      'PATH=/usr/local/bin:/usr/bin:/bin',
      `HOME=${this.home}`,
      `USER=${this.name}`,
      `XDG_RUNTIME_DIR=${this.runtimeDir}`,
      `LAGO_DATA_DIR=${this.home}/.lago-data`,
      `LAGO_SUBNET_FIRST=${process.env.LAGO_TEST_SUBNET_FIRST ?? '192.168.200.0'}`,
      `LAGO_SUBNET_COUNT=${process.env.LAGO_TEST_SUBNET_COUNT ?? '30'}`,
      'LAGO__SSH__BOOT_TIMEOUT=300',
      'OCLIF_SKIP_NEW_VERSION_CHECK=true',
      ...this.extraEnv,
    ]
    const result = await execa('runuser', ['-u', this.name, '--', 'env', '-i', ...env, LAGO_BIN, ...args], {cwd: this.work, reject: false, all: true, timeout})
    return {exitCode: result.exitCode ?? 1, out: String(result.all), stdout: String(result.stdout)}
  }

  async ok(args: string[]): Promise<string> {
    const result = await this.lago(args)
    assert.equal(result.exitCode, 0, `lago ${args.join(' ')} as ${this.name}:\n${result.out}`)
    return result.out
  }

  async virsh(args: string[]): Promise<string> {
    const env = [`HOME=${this.home}`, `XDG_RUNTIME_DIR=${this.runtimeDir}`, 'PATH=/usr/bin:/bin']
    return String((await execa('runuser', ['-u', this.name, '--', 'env', '-i', ...env, 'virsh', '-q', '-c', 'qemu:///session', ...args], {reject: false})).stdout)
  }

  async pids(command?: string): Promise<number[]> {
    const result = await execa('pgrep', ['-u', this.name, ...(command ? ['-f', command] : [])], {reject: false})
    return String(result.stdout).split('\n').filter(Boolean).map(Number)
  }

  async remove(): Promise<void> {
    if ((await execa('id', ['-u', this.name], {reject: false})).exitCode !== 0) return
    // Everything this test made run as the user: its qemus, and the session daemons libvirt spawned.
    const virsh = await this.virsh(['list', '--name'])
    for (const domain of virsh.split('\n').filter(Boolean)) await this.virsh(['destroy', domain])
    for (const pid of await this.pids()) process.kill(pid, 'SIGTERM')
    await new Promise((resolve) => setTimeout(resolve, 500))
    for (const pid of await this.pids()) process.kill(pid, 'SIGKILL')
    await execa('userdel', ['--remove', this.name], {reject: false})
    if (this.uid) await rm(this.runtimeDir, {recursive: true, force: true})
  }
}

describe('rootless mode: unprivileged users on qemu:///session', function () {
  this.timeout(900_000)
  let root: Sandbox
  const alice = new TestUser('lago-rootless-a')
  // Bob's host has a shared store (made by root) holding the template: he uses it in place.
  const bob = new TestUser('lago-rootless-b', ['LAGO_SYSTEM_STORE=/nonexistent'])
  let initOut = ''
  let startMarker = ''
  const exec = (user: TestUser, vm: string, command: string) => user.lago(['shell', '--prefix-path', 'env', vm, '-c', command])

  before(async () => {
    root = await Sandbox.create('rootless')
    startMarker = path.join(root.dir, 'started')
    await writeFile(startMarker, '')
    const pulled = await root.lago(['template', 'pull', 'tiny', '--template-repo-path', await root.templateRepo()])
    assert.equal(pulled.exitCode, 0, String(pulled.all))
    bob.extraEnv[0] = `LAGO_SYSTEM_STORE=${root.store}`
    await Promise.all([alice.create(INIT_A), bob.create(ONE_VM_INIT_FILE)])
    await writeFile(path.join(alice.work, 'deploy.sh'), '#!/bin/sh\nhostname > /root/deployed\n', {mode: 0o755})
    await execa('chown', [`${alice.name}:`, path.join(alice.work, 'deploy.sh')])
    initOut = await alice.ok(['init', 'env', 'init.yaml', '--template-repo-path', 'repo.json'])
    await bob.ok(['init', 'env', 'init.yaml', '--template-repo-path', 'repo.json'])
    // Both users' VMs boot at once.
    await Promise.all([alice.ok(['start', '--prefix-path', 'env']), bob.ok(['start', '--prefix-path', 'env'])])
  })

  after(async () => {
    await Promise.all([alice.remove(), bob.remove()])
    await root?.remove()
  })

  it('picks session mode by itself (saying so once) and keeps its store and leases in the XDG places', async () => {
    assert.match(initOut, /system libvirt daemon is not usable by lago-rootless-a .*qemu:\/\/\/session/)
    const again = await alice.ok(['status', '--prefix-path', 'env'])
    assert.doesNotMatch(again, /not usable/)
    assert.match(again, /Mode: {3}session/)
    const status = JSON.parse(await alice.ok(['status', '--prefix-path', 'env', '--json'])) as {mode: string; vms: {name: string; state: string; ssh?: string}[]}
    assert.equal(status.mode, 'session')
    for (const vm of status.vms) {
      assert.equal(vm.state, 'running')
      assert.match(vm.ssh ?? '', /^127\.0\.0\.1:\d+$/)
    }
    assert.ok((await readdir(`${alice.home}/.local/share/lago/store`)).length > 0, 'templates in ~/.local/share/lago/store')
    assert.ok(
      (await readdir(`${alice.home}/.local/state/lago/subnets`)).some((f) => f.endsWith('.lease')),
      'leases in ~/.local/state/lago/subnets',
    )
    const inventory = await alice.ok(['ansible-hosts', '--prefix-path', 'env'])
    assert.match(inventory, /vm0 ansible_host=127\.0\.0\.1 ansible_port=\d+/)
  })

  it('doctor and setup know session mode: no group or root needed, KVM access optional', async () => {
    const doctor = JSON.parse((await alice.lago(['doctor', '--json'])).stdout) as {checks: {id: string; status: string; message: string}[]}
    const byId = new Map(doctor.checks.map((c) => [c.id, c]))
    assert.equal(byId.get('mode')?.status, 'ok', byId.get('mode')?.message)
    assert.match(byId.get('mode')?.message ?? '', /^session, rootless/)
    assert.equal(byId.get('groups')?.status, 'ok')
    assert.equal(byId.get('lago-dirs')?.status, 'ok')
    // Without root: it makes the user's missing directories (repos, here) and nothing of the system mode's.
    const setup = JSON.parse(await alice.ok(['setup', '--json'])) as {steps: {id: string; state: string}[]; applied: string[]}
    assert.ok(!setup.steps.some((s) => s.id === 'polkit' || s.id === 'group'))
    assert.ok(setup.applied.every((id) => id.startsWith('dir:')))
    const again = JSON.parse(await alice.ok(['setup', '--json', '--dry-run'])) as {steps: {id: string; state: string}[]}
    assert.deepEqual(
      again.steps.filter((s) => s.id.startsWith('dir:') && s.state !== 'done'),
      [],
    )
  })

  it('the VMs reach each other by name on both networks (static addresses from the seed, names from /etc/hosts)', async () => {
    const there = await exec(alice, 'vm0', 'ping -c 1 -W 5 vm1 && ping -c 1 -W 5 vm1-data')
    assert.equal(there.exitCode, 0, there.out)
    const back = await exec(alice, 'vm1', 'ping -c 1 -W 5 vm0 && ping -c 1 -W 5 vm0-data')
    assert.equal(back.exitCode, 0, back.out)
  })

  it('shell returns the remote exit code', async () => {
    assert.equal((await exec(alice, 'vm1', 'exit 7')).exitCode, 7)
    assert.equal((await exec(alice, 'vm1', 'true')).exitCode, 0)
  })

  it('copies a directory to a VM and back', async () => {
    const dir = path.join(alice.work, 'tree')
    await mkdir(path.join(dir, 'sub'), {recursive: true})
    await writeFile(path.join(dir, 'sub', 'file.txt'), 'rootless\n')
    await execa('chown', ['-R', `${alice.name}:`, dir])
    await alice.ok(['copy-to-vm', '--prefix-path', 'env', 'vm0', 'tree', '/root/tree'])
    assert.equal((await exec(alice, 'vm0', 'cat /root/tree/sub/file.txt')).out.trim(), 'rootless')
    await alice.ok(['copy-from-vm', '--prefix-path', 'env', 'vm0', '/root/tree', 'back'])
    assert.equal(await readFile(path.join(alice.work, 'back', 'sub', 'file.txt'), 'utf8'), 'rootless\n')
  })

  it('collects artifacts', async () => {
    await alice.ok(['collect', '--prefix-path', 'env', '--output', 'collected'])
    assert.equal((await readFile(path.join(alice.work, 'collected', 'vm0', '_etc_hostname'), 'utf8')).trim(), 'vm0')
  })

  it("takes a template from a readable system store in place: the user's store gets no copy", async () => {
    const store = await readdir(`${bob.home}/.local/share/lago/store`).catch(() => [] as string[])
    assert.deepEqual(
      store.filter((f) => !f.startsWith('.')),
      [],
    )
    const info = await execa('qemu-img', ['info', '-U', '--output=json', path.join(bob.work, 'env', '.lago', 'images', 'vm0_root.qcow2')])
    assert.equal(path.dirname((JSON.parse(info.stdout) as {'backing-filename': string})['backing-filename']), root.store)
    // cleanup must not try to unregister from a store it may not write
    assert.deepEqual(await readdir(root.store).then((files) => files.filter((f) => f.endsWith('.users'))), [])
  })

  it('a second user runs a prefix at the same time: same subnets, its own segment and port', async () => {
    const a = JSON.parse(await alice.ok(['status', '--prefix-path', 'env', '--json'])) as {vms: {name: string; ssh: string; nics: {ip: string}[]}[]}
    const b = JSON.parse(await bob.ok(['status', '--prefix-path', 'env', '--json'])) as {vms: {name: string; ssh: string; nics: {ip: string}[]}[]}
    assert.equal(b.vms[0].nics[0].ip, a.vms[0].nics[0].ip, 'both leased the same subnet from their own pools')
    assert.ok(!a.vms.some((vm) => vm.ssh === b.vms[0].ssh), 'forwarded ports differ')
    assert.equal((await exec(bob, 'vm0', 'hostname')).out.trim(), 'vm0')
    // Alice's vm1 has an address on the same subnet, but on another segment: bob's VM cannot reach it.
    const across = await exec(bob, 'vm0', `ping -c 1 -W 2 ${a.vms[1].nics[0].ip}`)
    assert.notEqual(across.exitCode, 0, across.out)
  })

  it('deploys, stops and starts again: the VMs come back on their segments and ports', async () => {
    await alice.ok(['deploy', '--prefix-path', 'env'])
    assert.equal((await exec(alice, 'vm0', 'cat /root/deployed')).out.trim(), 'vm0')
    await alice.ok(['stop', '--prefix-path', 'env'])
    assert.equal((await alice.virsh(['list', '--name'])).trim(), '')
    const stopped = JSON.parse(await alice.ok(['status', '--prefix-path', 'env', '--json'])) as {vms: {state: string}[]}
    assert.deepEqual(
      stopped.vms.map((vm) => vm.state),
      ['down', 'down'],
    )
    await alice.ok(['start', '--prefix-path', 'env'])
    assert.equal((await exec(alice, 'vm0', 'ping -c 1 -W 5 vm1')).exitCode, 0)
  })

  it('snapshot and revert', async () => {
    assert.equal((await exec(alice, 'vm0', 'echo before > /root/mark && sync')).exitCode, 0)
    await alice.ok(['snapshot', '--prefix-path', 'env', 's1'])
    assert.equal((await exec(alice, 'vm0', 'echo after > /root/mark && sync')).exitCode, 0)
    const log = path.join(alice.work, 'env', '.lago', 'logs', 'lago.log')
    const before = (await stat(log)).size
    await alice.ok(['revert', '--prefix-path', 'env', 's1'])
    assert.equal((await exec(alice, 'vm0', 'cat /root/mark')).out.trim(), 'before')
    // The snapshot kept the memory: the revert resumes, and the session qemu's resume port sets the clock.
    assert.match((await readFile(log)).subarray(before).toString(), /vm0: clock set through its resume port; SSH answers/)
  })

  it('cleanup and gc leave no domain, qemu, port or shared file of the user behind', async () => {
    await alice.ok(['cleanup', '--prefix-path', 'env'])
    await alice.ok(['gc'])
    assert.equal((await alice.virsh(['list', '--all', '--name'])).trim(), '')
    assert.deepEqual(await alice.pids('qemu-system'), [])
    // The session libvirtd and virtlogd stay up to 120 s idle (libvirt's --timeout), then exit by themselves.
    const lingering = await alice.pids()
    const listening = String((await execa('ss', ['-Hltnp'])).stdout)
      .split('\n')
      .filter((line) => lingering.some((pid) => line.includes(`pid=${pid},`)))
    assert.deepEqual(listening, [])
    assert.deepEqual(
      (await readdir(`${alice.home}/.local/state/lago/subnets`)).filter((f) => f.endsWith('.lease')),
      [],
    )
    assert.deepEqual(await readdir(path.join(alice.work, 'env', '.lago', 'forwards')), [])
    // Files of the user outside its home made during this test (uids are reused: older files may be another user's).
    // dnf, run by the oVirt plugin's doctor check, keeps its cache in /var/tmp/dnf-USER-*: that is dnf's, not the environment's.
    const elsewhere = String((await execa('find', ['/tmp', '/var/tmp', '/dev/shm', '/var/lib/lago', '-user', alice.name, '-newer', startMarker], {reject: false})).stdout)
      .split('\n')
      .filter((file) => file && !file.startsWith(`/var/tmp/dnf-${alice.name}-`))
    assert.deepEqual(elsewhere, [])
    // Bob's environment was not touched.
    assert.equal((await exec(bob, 'vm0', 'true')).exitCode, 0)
  })
})
