import assert from 'node:assert/strict'
import {mkdir, readFile, readdir, rm, writeFile} from 'node:fs/promises'
import path from 'node:path'
import {execa} from 'execa'
import {libvirtObjectsOf, Sandbox} from '../lib/harness.js'

const THREE_VMS = `
domains:
  vm0:
    memory: 192
    vcpu: 1
    nics:
      - net: mgmt
      - net: isolated
    disks:
      - {type: template, template_name: tiny, name: root, dev: vda}
  vm1:
    memory: 192
    vcpu: 1
    nics:
      - net: mgmt
      - net: isolated
        ip: 192.168.1.50
    disks:
      - {type: template, template_name: tiny, name: root, dev: vda}
      - {type: empty, name: data, dev: vdb, size: 64M}
  vm2:
    memory: 192
    vcpu: 1
    nics:
      - net: mgmt
    disks:
      - {type: template, template_name: "lago-test:tiny:v1", name: root, dev: vda}
nets:
  mgmt:
    type: nat
    management: true
    dns_domain_name: lago.test
  isolated:
    type: bridge
`

describe('a three-VM environment on a NAT and an isolated net', function () {
  let sandbox: Sandbox
  let prefix: string
  let id: string
  let status: any
  const lago = (args: string[]) => sandbox.lago(args, {cwd: prefix})
  const sh = async (vm: string, command: string) => {
    const result = await lago(['shell', vm, '-c', command])
    return {code: result.exitCode, out: String(result.stdout).trim(), err: String(result.stderr)}
  }

  before(async () => {
    sandbox = await Sandbox.create('environment')
    prefix = path.join(sandbox.dir, 'env')
    const repo = await sandbox.templateRepo()
    const initFile = await sandbox.writeInitFile('LagoInitFile', THREE_VMS)
    const init = await sandbox.lago(['init', prefix, initFile, '--template-repo-path', repo])
    assert.equal(init.exitCode, 0, String(init.all))
    id = JSON.parse(await readFile(path.join(prefix, '.lago/state.json'), 'utf8')).id
  })

  after(async () => {
    await sandbox.lago(['destroy', '--yes', '--prefix-path', prefix])
    await sandbox.lago(['gc'])
    await sandbox.remove()
  })

  it('starts all three VMs in parallel and reports them', async () => {
    const start = await lago(['start'])
    assert.equal(start.exitCode, 0, String(start.all))
    const result = await lago(['status', '--json'])
    status = JSON.parse(String(result.stdout))
    assert.deepEqual(
      status.vms.map((v: any) => [v.name, v.state]),
      [
        ['vm0', 'running'],
        ['vm1', 'running'],
        ['vm2', 'running'],
      ],
    )
  })

  it('status --json has networks (subnet, gateway, type) and VMs (addresses per net, memory, disks with template and version)', async () => {
    const nets = Object.fromEntries(status.nets.map((n: any) => [n.name, n]))
    assert.equal(nets.mgmt.type, 'nat')
    assert.equal(nets.mgmt.management, true)
    assert.equal(nets.isolated.type, 'bridge')
    assert.equal(nets.isolated.management, false)
    assert.notEqual(nets.mgmt.subnet, nets.isolated.subnet)
    for (const net of status.nets) {
      assert.match(net.subnet, /^192\.168\.\d+\.0\/24$/)
      assert.equal(net.gateway, net.subnet.replace('.0/24', '.1'))
      assert.equal(net.active, true)
    }
    const vm1 = status.vms.find((v: any) => v.name === 'vm1')
    assert.equal(vm1.memory, 192)
    assert.equal(vm1.vcpu, 1)
    const isolatedNic = vm1.nics.find((n: any) => n.net === 'isolated')
    assert.equal(isolatedNic.ip, nets.isolated.subnet.replace('.0/24', '.50'), 'the static address keeps its last octet in the leased subnet')
    assert.equal(
      isolatedNic.mac,
      '54:52:' +
        isolatedNic.ip
          .split('.')
          .map((o: string) => Number(o).toString(16).padStart(2, '0'))
          .join(':'),
    )
    assert.deepEqual(
      vm1.disks.map((d: any) => [d.dev, d.template, d.templateVersion]),
      [
        ['vda', 'lago-test:tiny', 'v1'],
        ['vdb', undefined, undefined],
      ],
    )
    // -f yaml|flat|json: the original Lago's keys (scripts parse them), new keys beside them.
    const yaml = await lago(['status', '--out-format', 'yaml'])
    assert.match(String(yaml.stdout), /^Prefix:\n {2}Base directory: .*\n {2}UUID: [0-9a-f]{32}\n {2}Networks:\n {4}mgmt:\n {6}gateway: /)
    assert.match(String(yaml.stdout), /^ {4}vm1:\n {6}distro: tiny-debian12\n/m)
    const flat = await lago(['status', '-f', 'flat'])
    assert.match(String(flat.stdout), /^VMs\/vm1\/NICs\/eth1\/ip: 192\.168\.\d+\.50$/m)
    assert.match(String(flat.stdout), /^VMs\/vm1\/NICs\/eth1\/network: isolated$/m)
    assert.match(String(flat.stdout), /^Networks\/mgmt\/status: up$/m)
  })

  it('each guest got its address, hostname and the empty data disk', async () => {
    const vm1 = await sh('vm1', 'hostname; ip -4 -o addr show | grep -o "inet [0-9.]*"; cat /sys/block/vdb/size')
    assert.equal(vm1.code, 0, vm1.err)
    const expected = status.vms.find((v: any) => v.name === 'vm1').nics.map((n: any) => `inet ${n.ip}`)
    for (const line of ['vm1', ...expected, String((64 * 1024 * 1024) / 512)]) assert.ok(vm1.out.split('\n').includes(line), `${line} not in ${vm1.out}`)
  })

  it('VMs reach each other by name on both nets', async () => {
    const ip = (vm: string, net: string) => status.vms.find((v: any) => v.name === vm).nics.find((n: any) => n.net === net).ip
    for (const [name, address] of [
      ['vm1', ip('vm1', 'mgmt')],
      ['vm1.lago.test', ip('vm1', 'mgmt')],
      ['vm1-isolated', ip('vm1', 'isolated')],
      ['vm2', ip('vm2', 'mgmt')],
    ]) {
      const ping = await sh('vm0', `ping -c 1 -W 3 ${name}`)
      assert.equal(ping.code, 0, `vm0 → ${name}: ${ping.out} ${ping.err}`)
      assert.match(ping.out, new RegExp(`PING ${name.replace(/\./g, '\\.')} \\(${address.replace(/\./g, '\\.')}\\)`))
    }
    const back = await sh('vm1', 'ping -c 1 -W 3 vm0-isolated')
    assert.equal(back.code, 0, back.out + back.err)
  })

  it('shell passes exit codes through, also for scripts', async () => {
    assert.equal((await sh('vm2', 'exit 5')).code, 5)
    const script = path.join(sandbox.dir, 'probe.sh')
    await writeFile(script, 'echo from-script $(hostname)\nexit 3\n')
    const result = await lago(['shell', 'vm2', script])
    assert.equal(result.exitCode, 3)
    assert.equal(String(result.stdout).trim(), 'from-script vm2')
  })

  it('status, start, stop and shell run without oclif and print, exit and record what oclif would; a configured default hands them to oclif', async () => {
    const withOclif = (args: string[]) => sandbox.lago(args, {cwd: prefix, env: {LAGO_NO_LEAN: '1'}})
    const logFile = path.join(prefix, '.lago/logs/lago.log')
    const leanRuns = async () => (await readFile(logFile, 'utf8')).split('\n').filter((l) => l.includes('(the lean path)')).length
    const before = await leanRuns()
    // The progress lines of start carry the time of day.
    const untimed = (text: unknown) => String(text).replace(/^\S+Z /gm, '')
    const same = async (lines: string[][]) => {
      for (const args of lines) {
        const [lean, oclif] = [await lago(args), await withOclif(args)]
        assert.equal(lean.exitCode, oclif.exitCode, args.join(' '))
        assert.equal(lean.stdout, oclif.stdout, args.join(' '))
        assert.equal(untimed(lean.stderr), untimed(oclif.stderr), args.join(' '))
      }
    }
    const lines = [['status'], ['status', '--json'], ['start'], ['start', 'vm2', '--json'], ['start', 'vm9'], ['shell', 'vm2', '-c', 'echo out; echo err >&2; exit 6']]
    await same(lines)
    assert.equal(await leanRuns(), before + lines.length)
    const last = (await readFile(path.join(prefix, '.lago/events.ndjson'), 'utf8'))
      .trim()
      .split('\n')
      .slice(-4)
      .map((l) => JSON.parse(l))
    assert.deepEqual(
      last.map((e) => [e.verb, e.type, e.exitCode, e.error?.code]),
      [
        ['shell', 'verb.started', undefined, undefined],
        ['shell', 'verb.failed', 6, 'EXIT'],
        ['shell', 'verb.started', undefined, undefined],
        ['shell', 'verb.failed', 6, 'EXIT'],
      ],
    )
    // The second `stop vm2` finds it stopped and says the same; `start vm2` brings it back.
    await same([
      ['stop', 'vm9', '--save'],
      ['stop', 'vm2', '--json'],
    ])
    assert.equal(await leanRuns(), before + lines.length + 2)
    assert.equal((await lago(['start', 'vm2'])).exitCode, 0)
    // [status] out_format in lago.conf is a flag only oclif applies: status hands over to it.
    const conf = path.join(sandbox.dir, 'config/lago/lago.conf')
    await mkdir(path.dirname(conf), {recursive: true})
    await writeFile(conf, '[status]\nout_format = yaml\n')
    try {
      const yaml = await lago(['status'])
      assert.equal(yaml.exitCode, 0, String(yaml.all))
      assert.match(String(yaml.stdout), /^Prefix:/m)
      assert.equal(await leanRuns(), before + lines.length + 3)
    } finally {
      await rm(conf)
    }
  })

  it('copies a directory tree to a VM and back', async () => {
    const tree = path.join(sandbox.dir, 'tree')
    await mkdir(path.join(tree, 'sub/deeper'), {recursive: true})
    await writeFile(path.join(tree, 'a.txt'), 'alpha\n')
    await writeFile(path.join(tree, 'sub/b.bin'), Buffer.alloc(300_000, 7))
    await writeFile(path.join(tree, 'sub/deeper/c.txt'), 'gamma\n')
    const up = await lago(['copy-to-vm', 'vm2', tree, '/root'])
    assert.equal(up.exitCode, 0, String(up.all))
    const listing = await sh('vm2', 'cd /root/tree && find . -type f | sort && md5sum sub/b.bin')
    assert.match(listing.out, /^\.\/a\.txt\n\.\/sub\/b\.bin\n\.\/sub\/deeper\/c\.txt\n/)
    const back = path.join(sandbox.dir, 'back')
    await mkdir(back)
    const down = await lago(['copy-from-vm', 'vm2', '/root/tree', back, '--json'])
    assert.equal(down.exitCode, 0, String(down.all))
    assert.deepEqual(JSON.parse(String(down.stdout)), {files: 3, bytes: 300_012})
    assert.equal(await readFile(path.join(back, 'tree/sub/deeper/c.txt'), 'utf8'), 'gamma\n')
    assert.deepEqual(await readFile(path.join(back, 'tree/sub/b.bin')), Buffer.alloc(300_000, 7))
    const single = await lago(['copy-from-vm', 'vm2', '/root/tree/a.txt', path.join(sandbox.dir, 'single.txt')])
    assert.equal(single.exitCode, 0, String(single.all))
    assert.equal(await readFile(path.join(sandbox.dir, 'single.txt'), 'utf8'), 'alpha\n')
    const missing = await lago(['copy-from-vm', 'vm2', '/nope', back])
    assert.equal(missing.exitCode, 2)
    assert.match(String(missing.stderr), /\/nope does not exist on the guest/)
  })

  it('snapshot clean, then revert clean keeps what was written before and drops what came after', async () => {
    assert.equal((await sh('vm0', 'echo one > /root/before && sync')).code, 0)
    const snap = await lago(['snapshot', 'clean'])
    assert.equal(snap.exitCode, 0, String(snap.all))
    assert.equal((await sh('vm0', 'echo two > /root/after && sync')).code, 0)
    const list = await lago(['snapshot', '--list', '--json'])
    assert.deepEqual(Object.keys(JSON.parse(String(list.stdout)).snapshots), ['clean'])
    const revert = await lago(['revert', 'clean'])
    assert.equal(revert.exitCode, 0, String(revert.all))
    const check = await sh('vm0', 'cat /root/before; test -e /root/after && echo after-still-there || echo after-gone')
    assert.equal(check.out, 'one\nafter-gone')
    const after = JSON.parse(String((await lago(['status', '--json'])).stdout))
    assert.deepEqual(
      after.vms.map((v: any) => v.state),
      ['running', 'running', 'running'],
    )
    assert.deepEqual(after.vms[0].snapshots, ['clean'])
    const unknown = await lago(['revert', 'dirty'])
    assert.equal(unknown.exitCode, 2)
    assert.match(String(unknown.stderr), /No snapshot "dirty" .*\nSnapshots: clean\./)
  })

  it('console attaches to the serial console', async () => {
    const child = execa('script', ['-qec', sandbox.lagoCommandLine(['console', 'vm2']), '/dev/null'], {cwd: prefix, reject: false, all: true, env: sandbox.env()})
    let seen = ''
    child.all.on('data', (chunk: Buffer) => (seen += chunk.toString()))
    const deadline = Date.now() + 20_000
    while (!/Connected to domain/.test(seen) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
    child.kill('SIGKILL')
    await child
    assert.match(seen, /Connected to domain/)
  })

  it('shutdown --reboot brings a VM back; shutdown powers it off gracefully', async () => {
    const boots = async () => Number((await sh('vm2', 'cat /var/log/boot.log | wc -l')).out)
    const before = await boots()
    const reboot = await lago(['shutdown', '--reboot', 'vm2', '--json'])
    assert.equal(reboot.exitCode, 0, String(reboot.all))
    assert.ok((await boots()) > before, 'a new boot was recorded (boot.log persists)')
    const down = await lago(['shutdown', 'vm2', '--json'])
    assert.equal(down.exitCode, 0, String(down.all))
    assert.deepEqual(
      JSON.parse(String(down.stdout)).vms.map((v: any) => [v.vm, v.forced]),
      [['vm2', false]],
    )
    const states = JSON.parse(String((await lago(['status', '--json'])).stdout)).vms.map((v: any) => v.state)
    assert.deepEqual(states, ['running', 'running', 'down'])
  })

  it('start and stop act on named VMs only', async () => {
    const start = await lago(['start', 'vm2'])
    assert.equal(start.exitCode, 0, String(start.all))
    const stop = await lago(['stop', 'vm1'])
    assert.equal(stop.exitCode, 0, String(stop.all))
    const states = JSON.parse(String((await lago(['status', '--json'])).stdout))
    assert.deepEqual(
      states.vms.map((v: any) => v.state),
      ['running', 'down', 'running'],
    )
    assert.ok(
      states.nets.every((n: any) => n.active),
      'nets still used by running VMs stay up',
    )
  })

  it('a snapshot taken with a VM stopped reverts it to stopped, with its disk as it was', async () => {
    assert.equal((await sh('vm0', 'rm -f /root/late; sync')).code, 0)
    const snap = await lago(['snapshot', 'partial'])
    assert.equal(snap.exitCode, 0, String(snap.all))
    assert.equal((await sh('vm0', 'echo x > /root/late; sync')).code, 0)
    const revert = await lago(['revert', 'partial'])
    assert.equal(revert.exitCode, 0, String(revert.all))
    const states = JSON.parse(String((await lago(['status', '--json'])).stdout))
    assert.deepEqual(
      states.vms.map((v: any) => v.state),
      ['running', 'down', 'running'],
    )
    assert.equal((await sh('vm0', 'test -e /root/late && echo present || echo absent')).out, 'absent')
    assert.equal((await lago(['start', 'vm1'])).exitCode, 0, 'the stopped VM boots from its reverted disk')
  })

  it('gc removes the libvirt objects of a prefix whose directory was deleted', async () => {
    await rm(prefix, {recursive: true, force: true})
    const dry = await sandbox.lago(['gc', '--dry-run', '--json'])
    assert.equal(dry.exitCode, 0, String(dry.all))
    const orphans = JSON.parse(String(dry.stdout)).orphans.filter((o: any) => o.name.includes(id))
    assert.deepEqual(orphans.map((o: any) => `${o.kind} ${o.name}`).sort(), [
      `domain lago-${id}-vm0`,
      `domain lago-${id}-vm1`,
      `domain lago-${id}-vm2`,
      `network lago-${id}-isolated`,
      `network lago-${id}-mgmt`,
    ])
    const gc = await sandbox.lago(['gc'])
    assert.equal(gc.exitCode, 0, String(gc.all))
    assert.deepEqual(await libvirtObjectsOf(id), [])
  })
})

describe('workdirs, prefixes side by side, parallel inits', function () {
  let sandbox: Sandbox
  let repo: string

  before(async () => {
    sandbox = await Sandbox.create('workdir')
    repo = await sandbox.templateRepo()
    await sandbox.writeInitFile('LagoInitFile', THREE_VMS)
  })

  after(async () => {
    await sandbox.lago(['destroy', '--yes', '--all-prefixes'])
    await sandbox.remove()
  })

  it('lago init in a directory makes ./.lago with prefix "default"; --prefix-name adds more', async () => {
    const first = await sandbox.lago(['init', '--template-repo-path', repo])
    assert.equal(first.exitCode, 0, String(first.all))
    const second = await sandbox.lago(['init', '--prefix-name', 'second', '--template-repo-path', repo])
    assert.equal(second.exitCode, 0, String(second.all))
    const list = await sandbox.lago(['list'])
    assert.equal(String(list.stdout), '* default\n  second')
    const status = JSON.parse(String((await sandbox.lago(['status', '--json'])).stdout))
    assert.equal(status.prefix, path.join(sandbox.dir, '.lago/default'))
    const named = JSON.parse(String((await sandbox.lago(['status', '--json', '-P', 'second'])).stdout))
    assert.equal(named.prefix, path.join(sandbox.dir, '.lago/second'))
    assert.equal((await sandbox.lago(['set-current', 'second'])).exitCode, 0)
    const nested = path.join(sandbox.dir, 'some/sub/dir')
    await mkdir(nested, {recursive: true})
    const fromBelow = JSON.parse(String((await sandbox.lago(['status', '--json'], {cwd: nested})).stdout))
    assert.equal(fromBelow.prefix, path.join(sandbox.dir, '.lago/second'), 'found from a subdirectory')
    const bad = await sandbox.lago(['set-current', 'third'])
    assert.equal(bad.exitCode, 2)
    assert.match(String(bad.stderr), /No prefix "third" in workdir .*\nPrefixes: default, second\./)
  })

  it('destroy removes the current prefix and re-points current; --all-prefixes removes the workdir', async () => {
    const one = await sandbox.lago(['destroy', '--yes'])
    assert.equal(one.exitCode, 0, String(one.all))
    assert.equal(String((await sandbox.lago(['list'])).stdout), '* default')
    const all = await sandbox.lago(['destroy', '--yes', '--all-prefixes'])
    assert.equal(all.exitCode, 0, String(all.all))
    await assert.rejects(readdir(path.join(sandbox.dir, '.lago')), /ENOENT/)
    assert.deepEqual(await sandbox.leaseFiles(), [])
  })

  it('--skip-bootstrap writes no cloud-init seed', async () => {
    const result = await sandbox.lago(['init', '-P', 'nobootstrap', '--skip-bootstrap', '--template-repo-path', repo])
    assert.equal(result.exitCode, 0, String(result.all))
    assert.deepEqual(await readdir(path.join(sandbox.dir, '.lago/nobootstrap/.lago/seeds')), [])
    const state = JSON.parse(await readFile(path.join(sandbox.dir, '.lago/nobootstrap/.lago/state.json'), 'utf8'))
    assert.ok(state.vms.every((vm: any) => vm.seed === undefined))
  })

  it('ten prefixes initialised in parallel get distinct subnets', async () => {
    const results = await Promise.all(Array.from({length: 10}, (_, i) => sandbox.lago(['init', '-P', `p${i}`, '--template-repo-path', repo])))
    for (const r of results) assert.equal(r.exitCode, 0, String(r.all))
    const subnets: string[] = []
    for (let i = 0; i < 10; i++) {
      const state = JSON.parse(await readFile(path.join(sandbox.dir, `.lago/p${i}/.lago/state.json`), 'utf8'))
      subnets.push(...state.nets.map((n: any) => n.subnet))
    }
    assert.equal(subnets.length, 20)
    assert.equal(new Set(subnets).size, 20, subnets.join(' '))
  })

  it('start refuses, with the numbers, VMs that need more memory than the host has free', async () => {
    await sandbox.writeInitFile('Huge', THREE_VMS.replace('memory: 192', 'memory: 4000000'))
    const init = await sandbox.lago(['init', '-P', 'huge', 'Huge', '--template-repo-path', repo])
    assert.equal(init.exitCode, 0, String(init.all))
    const start = await sandbox.lago(['start', '-P', 'huge'])
    assert.equal(start.exitCode, 2, String(start.all))
    assert.match(String(start.stderr), /Not enough free memory: the VMs to start need 4000384 MiB, the host has \d+ MiB available\.\n.*--force/)
  })
})
