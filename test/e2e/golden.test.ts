import assert from 'node:assert/strict'
import {readdir, readFile, writeFile, mkdir} from 'node:fs/promises'
import path from 'node:path'
import {Sandbox, libvirtObjectsOf} from '../lib/harness.js'

// A two-VM environment provisioned by a deploy script that does real work (~10 s under TCG)
// and leaves a marker; frozen; three copies of it brought up at once.
const vm = (name: string) =>
  `  ${name}:\n    memory: 256\n    vcpu: 1\n    nics: [{net: lago}]\n    disks: [{type: template, template_name: tiny, name: root, dev: vda}]\n` +
  '    deploy-scripts: [scripts/provision.sh]\n    artifacts: [/var/lib/provisioned]\n'
const TWO_VMS = `domains:\n${vm('vm0')}${vm('vm1')}nets:\n  lago:\n    type: nat\n`

const PROVISION = [
  '#!/bin/sh',
  'set -e',
  'start=$(date +%s)',
  // Measurable work: hash a few MiB of random data, then settle.
  'for i in 1 2 3 4; do head -c 4194304 /dev/urandom | sha256sum >>/var/lib/provision-work; done',
  'sleep 4',
  'mkdir -p /var/lib',
  'echo "provisioned $(hostname) in $(( $(date +%s) - start )) s" >/var/lib/provisioned',
  'sync',
  'cat /var/lib/provisioned',
].join('\n')

const COPIES = ['copy1', 'copy2', 'copy3']

describe('golden environments: freeze a provisioned two-VM environment, three copies at once', function () {
  let sandbox: Sandbox
  let original: string
  const copyDir = (name: string) => path.join(sandbox.dir, name)
  const inCopy = (name: string, args: string[]) => sandbox.lago(args, {cwd: copyDir(name)})
  const sh = async (copy: string, vm: string, command: string) => {
    const result = await inCopy(copy, ['shell', vm, '-c', command])
    return {code: result.exitCode, out: String(result.stdout).trim(), all: String(result.all)}
  }
  const statuses = new Map<string, any>()

  before(async function () {
    this.timeout(900_000)
    sandbox = await Sandbox.create('golden')
    const repo = await sandbox.templateRepo()
    await mkdir(path.join(sandbox.dir, 'scripts'))
    await writeFile(path.join(sandbox.dir, 'scripts', 'provision.sh'), PROVISION)
    const initFile = await sandbox.writeInitFile('LagoInitFile', TWO_VMS)
    original = path.join(sandbox.dir, 'original')
    const init = await sandbox.lago(['init', original, initFile, '--template-repo-path', repo])
    assert.equal(init.exitCode, 0, String(init.all))
    for (const verb of [['start'], ['deploy']]) {
      const result = await sandbox.lago(verb, {cwd: original})
      assert.equal(result.exitCode, 0, `${verb[0]}: ${String(result.all)}`)
    }
  })

  after(async function () {
    this.timeout(300_000)
    if (!sandbox) return
    await Promise.all([original, ...COPIES.map(copyDir)].map((dir) => sandbox.lago(['destroy', '--yes'], {cwd: dir})))
    await sandbox.remove()
  })

  it('freeze shuts the running guests down cleanly, stores disks layered on their template plus the description, and starts the guests again', async function () {
    this.timeout(300_000)
    const freeze = await sandbox.lago(['freeze', 'provisioned', '--json'], {cwd: original})
    assert.equal(freeze.exitCode, 0, String(freeze.all))
    const result = JSON.parse(String(freeze.stdout))
    assert.equal(result.golden, 'provisioned:1')
    assert.deepEqual([...result.shutDown].sort(), ['vm0', 'vm1'])
    assert.deepEqual([...result.restarted].sort(), ['vm0', 'vm1'])
    const status = JSON.parse(String((await sandbox.lago(['status', '--json'], {cwd: original})).stdout))
    assert.deepEqual(
      status.vms.map((vm: any) => vm.state),
      ['running', 'running'],
    )
    assert.deepEqual(
      result.disks.map((d: any) => [d.id, d.layeredOn]),
      [
        ['golden:provisioned.vm0.root:1', 'lago-test:tiny:v1'],
        ['golden:provisioned.vm1.root:1', 'lago-test:tiny:v1'],
      ],
    )
    const show = await sandbox.lago(['golden', 'show', 'provisioned', '--verify', '--json'])
    assert.equal(show.exitCode, 0, String(show.all))
    const shown = JSON.parse(String(show.stdout))
    assert.equal(shown.verified, true, shown.problems?.join('\n'))
    assert.equal(shown.manifest.capture, 'shut-down')
    assert.deepEqual(
      shown.manifest.vms.map((vm: any) => [vm.name, vm.deployed.ran, vm.deployed.scripts]),
      [
        ['vm0', true, ['provision.sh']],
        ['vm1', true, ['provision.sh']],
      ],
    )
    // The original goes: the golden environment does not need it.
    const cleanup = await sandbox.lago(['cleanup'], {cwd: original})
    assert.equal(cleanup.exitCode, 0, String(cleanup.all))
  })

  it('three copies come up in parallel, each with the marker, its own subnet, MACs, key and identity', async function () {
    this.timeout(900_000)
    const made = await Promise.all(
      COPIES.map(async (name) => {
        const init = await sandbox.lago(['init', copyDir(name), '--from', 'provisioned:1'])
        if (init.exitCode !== 0) return `${name} init: ${String(init.all)}`
        const start = await inCopy(name, ['start'])
        return start.exitCode === 0 ? '' : `${name} start: ${String(start.all)}`
      }),
    )
    assert.deepEqual(made, ['', '', ''], made.join('\n'))
    for (const name of COPIES) {
      const status = await inCopy(name, ['status', '--json'])
      assert.equal(status.exitCode, 0, String(status.all))
      statuses.set(name, JSON.parse(String(status.stdout)))
    }
    const subnets = COPIES.map((name) => statuses.get(name).nets[0].subnet)
    assert.equal(new Set(subnets).size, 3, `subnets ${subnets.join(', ')}`)
    const macs = COPIES.flatMap((name) => statuses.get(name).vms.flatMap((vm: any) => vm.nics.map((n: any) => n.mac)))
    assert.equal(new Set(macs).size, 6, `MACs ${macs.join(', ')}`)
    const keys = await Promise.all(COPIES.map((name) => readFile(path.join(copyDir(name), '.lago', 'id_ed25519.pub'), 'utf8')))
    assert.equal(new Set(keys).size, 3)
    for (const name of COPIES) {
      const uuid = (await readFile(path.join(copyDir(name), '.lago', 'uuid'), 'utf8')).trim()
      for (const vm of ['vm0', 'vm1']) {
        const ip = statuses.get(name).vms.find((v: any) => v.name === vm).ip
        const guest = await sh(name, vm, 'cat /var/lib/provisioned; hostname; cat /var/lib/cloud/instance-id; ip -4 -o addr show | grep -o "inet [0-9.]*"')
        assert.equal(guest.code, 0, guest.all)
        const lines = guest.out.split('\n')
        assert.match(lines[0], new RegExp(`^provisioned ${vm} in \\d+ s$`), `${name}/${vm}: ${guest.out}`)
        assert.equal(lines[1], vm)
        assert.equal(lines[2], `${uuid}-${vm}`, `${name}/${vm} was not re-personalised: ${guest.out}`)
        assert.ok(lines.includes(`inet ${ip}`), `${name}/${vm}: ${ip} not in ${guest.out}`)
      }
    }
  })

  it('in each copy the VMs reach each other by name, and collect works', async function () {
    this.timeout(300_000)
    for (const name of COPIES) {
      const vm1 = statuses.get(name).vms.find((v: any) => v.name === 'vm1').ip
      const ping = await sh(name, 'vm0', 'ping -c 1 -W 3 vm1')
      assert.equal(ping.code, 0, `${name}: ${ping.all}`)
      assert.match(ping.out, new RegExp(`PING vm1 \\(${vm1.replace(/\./g, '\\.')}\\)`))
      const output = path.join(sandbox.dir, `collected-${name}`)
      const collect = await inCopy(name, ['collect', '--output', output])
      assert.equal(collect.exitCode, 0, String(collect.all))
      for (const vm of ['vm0', 'vm1']) {
        const files = await readdir(path.join(output, vm))
        const marker = await readFile(
          path.join(
            output,
            vm,
            files.find((f) => f.includes('provisioned'))!,
          ),
          'utf8',
        )
        assert.match(marker, new RegExp(`^provisioned ${vm} in`))
      }
    }
  })

  it('prune keeps the golden environment while a copy uses it', async function () {
    this.timeout(120_000)
    for (const args of [
      ['template', 'prune', '--json'],
      ['golden', 'prune', '--json'],
    ]) {
      const prune = await sandbox.lago(args)
      assert.equal(prune.exitCode, 0, String(prune.all))
      const result = JSON.parse(String(prune.stdout))
      assert.deepEqual(result.goldensRemoved, [])
      assert.equal(result.goldensKept[0].golden, 'provisioned:1')
      assert.equal(result.goldensKept[0].users.length, 3)
    }
    const list = JSON.parse(String((await sandbox.lago(['golden', 'list', '--json'])).stdout))
    assert.equal(list.goldens[0].users.length, 3)
  })

  it('publishes as a template repository another store fetches and verifies', async function () {
    this.timeout(300_000)
    const repoDir = path.join(sandbox.dir, 'published')
    const publish = await sandbox.lago(['golden', 'publish', 'provisioned:1', '--output', repoDir])
    assert.equal(publish.exitCode, 0, String(publish.all))
    const other = {LAGO_TEMPLATE_STORE: path.join(sandbox.dir, 'other-store')}
    const pull = await sandbox.lago(['golden', 'pull', 'provisioned:1', '--template-repo-path', path.join(repoDir, 'repo.json')], {env: other})
    assert.equal(pull.exitCode, 0, String(pull.all))
    const show = JSON.parse(String((await sandbox.lago(['golden', 'show', 'provisioned:1', '--verify', '--json'], {env: other})).stdout))
    assert.equal(show.verified, true, show.problems?.join('\n'))
    assert.deepEqual(
      show.manifest.vms.map((vm: any) => vm.disks.map((d: any) => [d.id, d.layeredOn])),
      [[['golden:provisioned.vm0.root:1', undefined]], [['golden:provisioned.vm1.root:1', undefined]]],
    )
    // An init file may name it too; the copy takes its disks from the other store.
    const file = await sandbox.writeInitFile('FromGolden.yaml', 'golden: provisioned:1\n')
    const init = await sandbox.lago(['init', path.join(sandbox.dir, 'elsewhere'), file], {env: other})
    assert.equal(init.exitCode, 0, String(init.all))
    const state = JSON.parse(await readFile(path.join(sandbox.dir, 'elsewhere', '.lago', 'state.json'), 'utf8'))
    assert.deepEqual(state.golden, {name: 'provisioned', version: '1', store: other.LAGO_TEMPLATE_STORE})
    assert.equal((await sandbox.lago(['destroy', '--yes'], {cwd: path.join(sandbox.dir, 'elsewhere'), env: other})).exitCode, 0)
  })

  it('cleanup of each copy leaves the golden environment intact; then prune removes it', async function () {
    this.timeout(300_000)
    const ids = await Promise.all(COPIES.map(async (name) => statuses.get(name).uuid.slice(0, 8)))
    const cleaned = await Promise.all(COPIES.map((name) => inCopy(name, ['cleanup'])))
    for (const result of cleaned) assert.equal(result.exitCode, 0, String(result.all))
    for (const id of ids) assert.deepEqual(await libvirtObjectsOf(id), [])
    const show = JSON.parse(String((await sandbox.lago(['golden', 'show', 'provisioned', '--verify', '--json'])).stdout))
    assert.equal(show.verified, true, show.problems?.join('\n'))
    assert.deepEqual(show.users, [])
    const prune = JSON.parse(String((await sandbox.lago(['golden', 'prune', '--json'])).stdout))
    assert.deepEqual(prune.goldensRemoved, ['provisioned:1'])
    const list = JSON.parse(String((await sandbox.lago(['golden', 'list', '--json'])).stdout))
    assert.deepEqual(list.goldens, [])
  })
})
