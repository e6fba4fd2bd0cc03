import assert from 'node:assert/strict'
import {mkdir, readdir, readFile, writeFile} from 'node:fs/promises'
import net from 'node:net'
import path from 'node:path'
import {execa} from 'execa'
import {shellCommand} from '@lago/core'
import {REPO_ROOT, Sandbox} from '../lib/harness.js'

// Two stand-in remote hypervisors (test/harness/remote-host.sh): their own netns, libvirtd,
// sshd and disk directory; their guest subnets are routed only there, so everything Lago
// does with a guest has to go through the host.
const REMOTE_HOST = path.join(REPO_ROOT, 'test/harness/remote-host.sh')
// The stand-in hosts' numbers (remote-host.sh N), configured as h1 and h2: not 1, which
// bench/remote.mjs stands up and leaves up, so that this file's teardown never takes it down.
const [H1, H2] = [3, 4]
const KEY = '/var/lib/lago-test-remote/id_ed25519'
const DISKS = '/var/lib/libvirt/lago-remote'
const hostAddress = (n: number) => `10.249.${n}.2`
const uri = (n: number) => `qemu+ssh://root@${hostAddress(n)}/system?keyfile=${KEY}&no_verify=1`

/** A command on stand-in host N, over SSH as a user of that host would run it. */
async function onHost(n: number, argv: string[]): Promise<string> {
  const ssh = ['-i', KEY, '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=error', `root@${hostAddress(n)}`]
  // ssh hands the host's shell one command line: quote every word.
  const result = await execa('ssh', [...ssh, '--', shellCommand(argv)], {reject: false})
  assert.equal(result.exitCode, 0, `${argv.join(' ')} on host ${n}: ${result.stderr}`)
  return String(result.stdout).trim()
}

/** Domains and networks of host N's libvirt, and the files under its disk directory. */
async function leftOn(n: number): Promise<{domains: string; networks: string; files: string}> {
  return {
    domains: await onHost(n, ['virsh', '-q', '-c', 'qemu:///system', 'list', '--all', '--name']),
    networks: await onHost(n, ['virsh', '-q', '-c', 'qemu:///system', 'net-list', '--all', '--name']),
    files: await onHost(n, ['sh', '-c', `test -d ${DISKS} && find ${DISKS} -mindepth 1 || true`]),
  }
}

/** Whether a TCP connection from here to ip:port opens within 3 s. */
function reachable(ip: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({host: ip, port})
    const done = (open: boolean) => {
      socket.destroy()
      resolve(open)
    }
    socket.setTimeout(3000, () => done(false))
    socket.once('connect', () => done(true))
    socket.once('error', () => done(false))
  })
}

/** Two VMs of `memory` MiB each on one NAT net; vm0 has a deploy script and an artifact. */
const TWO_VMS = (memory: number) => {
  const vm = (name: string, extra = '') => `  ${name}:\n    memory: ${memory}\n    vcpu: 1\n    nics: [{net: lago}]\n    disks: [{type: template, template_name: tiny, name: root, dev: vda}]\n${extra}`
  return `domains:\n${vm('vm0', '    deploy-scripts: [scripts/deploy.sh]\n    artifacts: [/var/log/remote-test]\n')}${vm('vm1')}nets:\n  lago: {type: nat}\n`
}

describe('remote hypervisors (stand-in hosts over SSH)', function () {
  let sandbox: Sandbox
  let repo: string
  let initFile: string
  const env = {
    // Guest subnets exist only inside the stand-in hosts: a range no VM in lago-test uses, so
    // that reaching a guest from here can only mean a route that must not exist.
    LAGO_SUBNET_FIRST: '10.250.0.0',
    LAGO_SUBNET_COUNT: '10',
    LAGO__HYPERVISORS__H1: uri(H1),
    LAGO__HYPERVISORS__H2: uri(H2),
    LAGO__REMOTE__DIR: DISKS,
  }
  const lago = (args: string[], cwd?: string) => sandbox.lago(args, {env, ...(cwd ? {cwd} : {})})

  before(async function () {
    this.timeout(120_000)
    for (const n of [H1, H2]) await execa('bash', [REMOTE_HOST, 'up', String(n)])
    sandbox = await Sandbox.create('remote')
    repo = await sandbox.templateRepo()
    await mkdir(path.join(sandbox.dir, 'scripts'))
    await writeFile(path.join(sandbox.dir, 'scripts', 'deploy.sh'), '#!/bin/sh\nmkdir -p /var/log/remote-test\necho "deployed on $(hostname)" > /var/log/remote-test/deployed.log\n')
    initFile = await sandbox.writeInitFile('LagoInitFile', TWO_VMS(256))
  })

  after(async function () {
    this.timeout(180_000)
    for (const name of await readdir(sandbox.dir)) {
      if (name.startsWith('env')) await lago(['destroy', '--yes', '--prefix-path', path.join(sandbox.dir, name)])
    }
    await sandbox.remove()
    for (const n of [H1, H2]) await execa('bash', [REMOTE_HOST, 'down', String(n)], {reject: false})
  })

  describe('a two-VM environment on host h1', function () {
    let prefix: string
    const inPrefix = (args: string[]) => lago(args, prefix)
    /** Runs lago in the prefix and asserts it succeeded. */
    const succeeds = async (args: string[]) => {
      const result = await inPrefix(args)
      assert.equal(result.exitCode, 0, String(result.all))
      return result
    }
    const sh = async (vm: string, command: string) => {
      const result = await inPrefix(['shell', vm, '-c', command])
      return {code: result.exitCode, out: String(result.stdout).trim(), all: String(result.all)}
    }

    before(async function () {
      this.timeout(900_000)
      prefix = path.join(sandbox.dir, 'env-h1')
      const init = await lago(['init', prefix, initFile, '--template-repo-path', repo, '--host', 'h1'])
      assert.equal(init.exitCode, 0, String(init.all))
      await succeeds(['start'])
    })

    it('keeps disks and seeds on the host, none here, and status names the host', async function () {
      this.timeout(60_000)
      const status = JSON.parse(String((await inPrefix(['status', '--json'])).stdout))
      assert.deepEqual(status.host, {name: 'h1', uri: uri(H1)})
      assert.deepEqual(
        status.vms.map((vm: {state: string}) => vm.state),
        ['running', 'running'],
      )
      assert.deepEqual(await readdir(path.join(prefix, '.lago', 'images')), [])
      const files = (await leftOn(H1)).files.split('\n')
      assert.ok(files.some((f) => f.endsWith('/images/vm0_root.qcow2')) && files.some((f) => f.endsWith('/seeds/vm1-cidata.iso')), files.join('\n'))
      // The guest subnet is not routed here: only a tunnel through the host reaches it.
      assert.equal(await reachable(status.vms[0].ip, 22), false)
    })

    it('status says where each disk is on the host (JSON and table)', async function () {
      this.timeout(60_000)
      const status = JSON.parse(String((await inPrefix(['status', '--json'])).stdout))
      const images = `${DISKS}/prefixes/${status.uuid}/.lago/images`
      assert.deepEqual(
        status.vms.map((vm: {disks: {dev: string; host: string; path: string}[]}) => vm.disks.map((d) => [d.dev, d.host, d.path])),
        [[['vda', 'h1', `${images}/vm0_root.qcow2`]], [['vda', 'h1', `${images}/vm1_root.qcow2`]]],
      )
      assert.ok((await leftOn(H1)).files.split('\n').includes(`${images}/vm1_root.qcow2`))
      const table = String((await succeeds(['status'])).stdout)
      assert.match(table, /^VM +DISK +ON HOST$/m)
      assert.ok(
        table.split('\n').some((line) => /^vm1 +vda +/.test(line) && line.endsWith(` h1:${images}/vm1_root.qcow2`)),
        table,
      )
      const listed = JSON.parse(String((await succeeds(['export', '--collect-only', '--json'])).stdout))
      assert.deepEqual(listed.disks, [`h1:${images}/vm0_root.qcow2`, `h1:${images}/vm1_root.qcow2`])
    })

    it('console attaches through the host, shows the banner and detaches with Ctrl-]', async function () {
      this.timeout(120_000)
      const child = execa('script', ['-qec', sandbox.lagoCommandLine(['console', 'vm0']), '/dev/null'], {cwd: prefix, reject: false, all: true, env: sandbox.env(env), timeout: 90_000})
      let seen = ''
      child.all.on('data', (chunk: Buffer) => (seen += chunk.toString()))
      const deadline = Date.now() + 60_000
      while (!/Escape character is \^\]/.test(seen) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
      // virsh puts the terminal in raw mode right after its banner; Ctrl-] then detaches.
      await new Promise((r) => setTimeout(r, 1000))
      child.stdin.write('\x1d')
      const result = await child
      assert.match(seen, /Connected to domain '?lago-[0-9a-f]+-vm0/, seen)
      assert.equal(result.exitCode, 0, seen)
    })

    it('refuses export and freeze, naming the host, and makes nothing', async function () {
      this.timeout(60_000)
      const output = path.join(sandbox.dir, 'exported')
      const exported = await inPrefix(['export', '--output', output])
      assert.equal(exported.exitCode, 2, String(exported.all))
      assert.match(String(exported.stderr), /Cannot export the environment: the disks of this environment are on hypervisor h1/)
      assert.ok(!(await readdir(sandbox.dir)).includes('exported'))
      const frozen = await inPrefix(['freeze', 'remote-gold'])
      assert.equal(frozen.exitCode, 2, String(frozen.all))
      assert.match(String(frozen.stderr), /Cannot freeze the environment: .* on hypervisor h1.*\n.*init --host local/s)
      const goldens = JSON.parse(String((await lago(['golden', 'list', '--json'])).stdout))
      assert.equal(JSON.stringify(goldens).includes('remote-gold'), false, JSON.stringify(goldens))
      assert.deepEqual(
        JSON.parse(String((await inPrefix(['status', '--json'])).stdout)).vms.map((vm: {state: string}) => vm.state),
        ['running', 'running'],
        'freeze refused before shutting anything down',
      )
    })

    it('runs shell commands through the host, with their exit codes', async function () {
      this.timeout(60_000)
      const hostname = await sh('vm0', 'hostname')
      assert.deepEqual([hostname.code, hostname.out], [0, 'vm0'], hostname.all)
      assert.equal((await sh('vm1', 'exit 7')).code, 7)
      // Without a connection of its own, shell tunnelled through OpenSSH's shared login (persist_seconds); with 0, through its own.
      const log = path.join(prefix, '.lago/logs/lago.log')
      const sharedLogins = async () => (await readFile(log, 'utf8')).split('\n').filter((l) => l.includes('"ControlMaster=auto"')).length
      const before = await sharedLogins()
      assert.ok(before >= 2, `shared-login tunnels logged: ${before}`)
      const own = await sandbox.lago(['shell', 'vm0', '-c', 'exit 4'], {cwd: prefix, env: {...env, LAGO__REMOTE__PERSIST_SECONDS: '0'}})
      assert.equal(own.exitCode, 4, String(own.all))
      assert.equal(await sharedLogins(), before)
    })

    it('copies files both ways', async function () {
      this.timeout(60_000)
      const local = path.join(sandbox.dir, 'to-guest.txt')
      await writeFile(local, 'from the client\n')
      await succeeds(['copy-to-vm', 'vm1', local, '/root/copied.txt'])
      assert.equal((await sh('vm1', 'cat /root/copied.txt')).out, 'from the client')
      const back = path.join(sandbox.dir, 'from-guest.txt')
      await succeeds(['copy-from-vm', 'vm1', '/root/copied.txt', back])
      assert.equal(await readFile(back, 'utf8'), 'from the client\n')
    })

    it('deploys and collects', async function () {
      this.timeout(120_000)
      await succeeds(['deploy'])
      const output = path.join(sandbox.dir, 'collected')
      await succeeds(['collect', '--output', output])
      assert.equal(await readFile(path.join(output, 'vm0', '_var_log_remote-test', 'deployed.log'), 'utf8'), 'deployed on vm0\n')
    })

    it('snapshots and reverts', async function () {
      this.timeout(600_000)
      assert.equal((await sh('vm0', 'echo before > /root/mark; sync')).code, 0)
      await succeeds(['snapshot', 'base'])
      assert.equal((await sh('vm0', 'echo after > /root/mark; sync')).code, 0)
      await succeeds(['revert', 'base'])
      assert.equal((await sh('vm0', 'cat /root/mark')).out, 'before')
    })

    it('stops and starts again', async function () {
      this.timeout(600_000)
      await succeeds(['stop'])
      assert.equal((await leftOn(H1)).domains, '')
      const refused = await sh('vm0', 'true')
      assert.notEqual(refused.code, 0)
      assert.match(refused.all, /not running/)
      // A VM that is down would be read from its disk here: refused, naming the host, nothing made.
      const output = path.join(sandbox.dir, 'collected-down')
      const collect = await inPrefix(['collect', '--output', output])
      assert.equal(collect.exitCode, 2, String(collect.all))
      assert.match(String(collect.stderr), /Cannot collect from vm0(, vm1)? while (it is|they are) down: .* on hypervisor h1.*\n.*lago start vm0/s)
      assert.ok(!(await readdir(sandbox.dir)).includes('collected-down'))
      await succeeds(['start'])
      assert.equal((await sh('vm0', 'cat /root/mark')).out, 'before')
    })

    it('cleans up and destroys, leaving nothing on either side', async function () {
      this.timeout(120_000)
      await succeeds(['cleanup'])
      assert.deepEqual(await leftOn(H1), {domains: '', networks: '', files: ''})
      const destroy = await lago(['destroy', '--yes', '--prefix-path', prefix])
      assert.equal(destroy.exitCode, 0, String(destroy.all))
      assert.ok(!(await readdir(sandbox.dir)).includes('env-h1'))
      assert.deepEqual(await readdir(path.join(sandbox.leases, 'hosts', 'h1')).then((names) => names.filter((n) => n.endsWith('.lease'))), [])
    })
  })

  describe('placement by free memory', function () {
    it('puts two environments initialised at once on the two hosts, and refuses one that fits none with the numbers', async function () {
      this.timeout(300_000)
      // Both hosts share this machine's memory: only a serialised placement that counts the
      // first environment (placed, not started) sends the second to the other host.
      const inits = await Promise.all(['env-a', 'env-b'].map((name) => lago(['init', path.join(sandbox.dir, name), initFile, '--template-repo-path', repo])))
      for (const init of inits) assert.equal(init.exitCode, 0, String(init.all))
      const hosts: string[] = []
      for (const name of ['env-a', 'env-b']) hosts.push(JSON.parse(String((await lago(['status', '--json'], path.join(sandbox.dir, name))).stdout)).host.name)
      assert.deepEqual([...hosts].sort(), ['h1', 'h2'])
      const list = await lago(['list', '--hosts', '--json'])
      assert.equal(list.exitCode, 0, String(list.all))
      assert.deepEqual(
        JSON.parse(String(list.stdout))
          .prefixes.map((p: {host: string; prefix: string; running: number}) => `${p.host} ${path.basename(p.prefix)} ${p.running}`)
          .sort(),
        [`${hosts[0]} env-a 0`, `${hosts[1]} env-b 0`].sort(),
      )

      const huge = await sandbox.writeInitFile('Huge', TWO_VMS(4 * 1024 * 1024))
      const refused = await lago(['init', path.join(sandbox.dir, 'env-huge'), huge, '--template-repo-path', repo])
      assert.equal(refused.exitCode, 2, String(refused.all))
      assert.match(String(refused.all), /No hypervisor has 8388608 MiB free.*h1: \d+ MiB free.*h2: \d+ MiB free/s)
      assert.ok(!(await readdir(sandbox.dir)).includes('env-huge'))

      for (const name of ['env-a', 'env-b']) {
        const destroy = await lago(['destroy', '--yes', '--prefix-path', path.join(sandbox.dir, name)])
        assert.equal(destroy.exitCode, 0, String(destroy.all))
      }
      for (const n of [H1, H2]) assert.deepEqual(await leftOn(n), {domains: '', networks: '', files: ''})
    })
  })
})
