#!/usr/bin/env node
// Lago against doing the same by hand, both sides in one run, interleaved (issue 19):
// - start until every VM answers SSH vs `virsh net-create` + `virsh create` in parallel, then
//   waiting for port 22 (1, 3, 10 VMs), with the split of each side;
// - stop vs `virsh destroy` in parallel + `net-destroy` (3, 10 VMs);
// - start of 3 saved VMs (stop --save) until each answers SSH, against the 2 s goal and against
//   `virsh restore` in parallel with one `ssh` login each that sets the clock (Lago sets it
//   through the guest's resume port and reads SSH's identification line: no login);
// - CLI start-up: --help vs `node -e 0`, status (3 VMs) vs `node -e 0`, shell VM -c true vs
//   `node -e 0` + `ssh -i KEY root@VM true`.
// Needs root and the test namespace (bench/run.mjs enters it):
//   ip netns exec lago-test node bench/speed.mjs [--counts 1,3,10] [--rounds 2] [--settle SECONDS] [--json]
import {spawn, spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync} from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import {benchWork, cli, median, tinyTemplateRepo} from './lib.mjs'

const arg = (name, fallback) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : fallback)
const counts = arg('--counts', '1,3,10').split(',').map(Number)
const rounds = Number(arg('--rounds', '2'))
const cliRuns = Number(arg('--cli-runs', '10'))
// Seconds to let the host settle before each start, either side: a stop returns before qemu's
// teardown (freeing guest memory, libvirtd's cleanup) ends, and the start that follows shares
// the two cores with it. 0 (the default) starts at once, as before.
const settleMs = Number(arg('--settle', '0')) * 1000
const settle = () => (settleMs > 0 ? new Promise((resolve) => setTimeout(resolve, settleMs)) : Promise.resolve())
const {work, env, must} = benchWork('speed')
const virshArgs = (...args) => ['-q', '-c', 'qemu:///system', ...args]
const prefixes = []

const repoJson = tinyTemplateRepo(work, must)

const SSH_OPTIONS = ['-q', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'BatchMode=yes']
const seconds = (t0) => Number(process.hrtime.bigint() - t0) / 1e9
const spawnAll = (commands) =>
  Promise.all(
    commands.map(
      ([file, args]) =>
        new Promise((resolve, reject) => {
          const p = spawn(file, args, {stdio: ['ignore', 'ignore', 'pipe'], env})
          let stderr = ''
          p.stderr.on('data', (c) => (stderr += c))
          p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${file} ${args.join(' ')} failed: ${stderr}`))))
        }),
    ),
  )

function portOpen(host) {
  return new Promise((resolve) => {
    const s = net.connect({host, port: 22})
    const done = (ok) => (s.destroy(), resolve(ok))
    s.setTimeout(1000, () => done(false))
    s.once('connect', () => done(true))
    s.once('error', () => done(false))
  })
}
/** Port 22 open: a probe every 100 ms without waiting for the last to time out (as Lago does). */
function waitPort(ip) {
  return new Promise((resolve) => {
    const probe = () =>
      portOpen(ip).then((open) => {
        if (open && timer) {
          clearInterval(timer)
          timer = undefined
          resolve()
        }
      })
    let timer = setInterval(probe, 100)
    probe()
  })
}

function makePrefix(count) {
  const domains = Array.from({length: count}, (_, i) => `  vm${i}:\n    memory: 256\n    vcpu: 1\n    nics: [{net: lago}]\n    disks: [{type: template, template_name: tiny}]`).join('\n')
  writeFileSync(path.join(work, `init-${count}.yaml`), `domains:\n${domains}\nnets:\n  lago: {}\n`)
  const prefix = path.join(work, `env-${count}`)
  must(process.execPath, [cli, 'init', prefix, path.join(work, `init-${count}.yaml`), '--template-repo-path', repoJson])
  prefixes.push(prefix)
  const state = JSON.parse(readFileSync(path.join(prefix, '.lago/state.json'), 'utf8'))
  return {prefix, state, ips: state.vms.map((vm) => vm.nics[0].ip)}
}

/** By hand: the XML Lago wrote, networks then every domain in parallel, then port 22 of each. */
async function startByHand({prefix, ips}) {
  const xmlDir = path.join(prefix, '.lago/libvirt')
  const files = (kind) => readdirSync(xmlDir).filter((f) => f.startsWith(kind) && f.endsWith('.xml'))
  const t0 = process.hrtime.bigint()
  await spawnAll(files('net-').map((f) => ['virsh', virshArgs('net-create', path.join(xmlDir, f))]))
  const networks = seconds(t0)
  await spawnAll(files('vm-').map((f) => ['virsh', virshArgs('create', path.join(xmlDir, f))]))
  const domains = seconds(t0)
  await Promise.all(ips.map(waitPort))
  const total = seconds(t0)
  return {total, split: {networks, domains: domains - networks, boot: total - domains}}
}

async function stopByHand({state}) {
  const t0 = process.hrtime.bigint()
  await spawnAll(state.vms.map((vm) => ['virsh', virshArgs('destroy', vm.libvirtName)]))
  await spawnAll(state.nets.map((n) => ['virsh', virshArgs('net-destroy', n.libvirtName)]))
  return seconds(t0)
}

/** Lago start, with its split read from the prefix log (the debug lines it writes at each step). */
function startWithLago({prefix}) {
  const logFile = path.join(prefix, '.lago/logs/lago.log')
  const offset = statSync(logFile, {throwIfNoEntry: false})?.size ?? 0
  const wall = Date.now()
  const t0 = process.hrtime.bigint()
  must(process.execPath, [cli, 'start'], {cwd: prefix})
  const total = seconds(t0)
  const lines = readFileSync(logFile).subarray(offset).toString().split('\n')
  const at = (re) => lines.filter((l) => re.test(l)).map((l) => (Date.parse(l.slice(0, 24)) - wall) / 1000)
  const first = (re) => Math.min(...at(re))
  const last = (re) => Math.max(...at(re))
  const netCreate = first(/"net-create"/)
  const createRun = first(/"virsh" .*"create" /)
  const created = last(/: domain created$/)
  const portOpen = last(/: port 22 open$/)
  const sshAnswers = last(/: SSH answers$/)
  return {
    total,
    split: {cli: netCreate, networks: createRun - netCreate, domains: created - createRun, boot: portOpen - created, ssh: sshAnswers - portOpen, finish: total - sshAnswers},
  }
}

/**
 * By hand: the same running guests saved with `virsh save`, then restored in parallel, each
 * followed by one OpenSSH login that sets its clock (what a user without Lago does, and what
 * Lago does for a guest without a waiter on its resume port); their network stays up, as
 * `stop --save` leaves it.
 */
async function resumeByHand({prefix, state, ips}) {
  const dir = mkdtempSync(path.join(work, 'saved-'))
  try {
    const files = state.vms.map((vm) => path.join(dir, `${vm.name}.save`))
    await spawnAll(state.vms.map((vm, i) => ['virsh', virshArgs('save', vm.libvirtName, files[i])]))
    await settle()
    const key = path.join(prefix, '.lago/id_ed25519')
    const t0 = process.hrtime.bigint()
    await Promise.all(
      files.map(async (file, i) => {
        await spawnAll([['virsh', virshArgs('restore', file)]])
        await spawnAll([['ssh', [...SSH_OPTIONS, '-i', key, `root@${ips[i]}`, `date -u -s @${Math.round(Date.now() / 1000)} >/dev/null`]]])
      }),
    )
    return seconds(t0)
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
}

function timed(file, args, options = {}) {
  const t0 = process.hrtime.bigint()
  must(file, args, options)
  return seconds(t0)
}

const results = []
/** One figure: `limit` bounds the ratio (or, without a baseline, the value itself). */
const record = ({name, value, unit, baseline, ratio, goal, limit, absolute, detail}) => {
  const met = (absolute || ratio === undefined ? value : ratio) <= limit
  results.push({name, value, unit, baseline, ratio, goal, met, detail})
  console.log(
    `${name}: ${value.toFixed(unit === 's' ? 2 : 0)} ${unit}${baseline ? ` vs ${baseline}` : ''}${ratio === undefined ? '' : `, ratio ${ratio.toFixed(2)}×`} (goal ${goal}: ${met ? 'met' : 'NOT met'})${detail ? `  ${detail}` : ''}`,
  )
}
const splitText = (split) =>
  Object.entries(split)
    .map(([k, v]) => `${k} ${v.toFixed(2)}`)
    .join(', ')
const medianSplit = (splits) => Object.fromEntries(Object.keys(splits[0]).map((k) => [k, median(splits.map((s) => s[k]))]))

/** CLI start-up, interleaved with its baselines, on the running 3-VM prefix. */
function cliFigures({prefix, ips}) {
  const key = path.join(prefix, '.lago/id_ed25519')
  const ssh = ['ssh', [...SSH_OPTIONS, '-i', key, `root@${ips[0]}`, 'true']]
  const cases = {
    node: [process.execPath, ['-e', '0'], {}],
    help: [process.execPath, [cli, '--help'], {}],
    status: [process.execPath, [cli, 'status'], {cwd: prefix}],
    ssh: [...ssh, {}],
    shell: [process.execPath, [cli, 'shell', 'vm0', '-c', 'true'], {cwd: prefix}],
  }
  const times = Object.fromEntries(Object.keys(cases).map((k) => [k, []]))
  for (let i = 0; i < cliRuns + 2; i++) {
    for (const [name, [file, args, options]] of Object.entries(cases)) {
      const s = timed(file, args, options)
      if (i >= 2) times[name].push(s) // the first two rounds warm the page cache
    }
  }
  const m = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v) * 1000]))
  const ms = (v) => `${v.toFixed(0)} ms`
  record({name: 'lago --help', value: m.help, unit: 'ms', baseline: `node -e 0 ${ms(m.node)}`, ratio: m.help / m.node, goal: '≤ 1.5×', limit: 1.5})
  record({name: 'lago status (3 VMs)', value: m.status, unit: 'ms', baseline: `node -e 0 ${ms(m.node)}`, ratio: m.status / m.node, goal: '≤ 2×', limit: 2})
  record({
    name: 'lago shell vm0 -c true',
    value: m.shell,
    unit: 'ms',
    baseline: `node -e 0 + ssh true ${ms(m.node + m.ssh)}`,
    ratio: m.shell / (m.node + m.ssh),
    goal: '≤ 3×',
    limit: 3,
    detail: `ssh true ${ms(m.ssh)}`,
  })
}

try {
  for (const count of counts) {
    const target = makePrefix(count)
    must(process.execPath, [cli, 'start'], {cwd: target.prefix}) // first boot makes the SSH host keys: not measured
    must(process.execPath, [cli, 'stop'], {cwd: target.prefix})
    const lago = []
    const hand = []
    const lagoStop = []
    const handStop = []
    for (let r = 0; r < rounds; r++) {
      await settle()
      hand.push(await startByHand(target))
      handStop.push(await stopByHand(target))
      await settle()
      lago.push(startWithLago(target))
      if (count === 3 && r === 0) cliFigures(target)
      lagoStop.push(timed(process.execPath, [cli, 'stop'], {cwd: target.prefix}))
    }
    const l = median(lago.map((x) => x.total))
    const h = median(hand.map((x) => x.total))
    record({
      name: `start ${count} VM${count > 1 ? 's' : ''} until SSH`,
      value: l,
      unit: 's',
      baseline: `by hand ${h.toFixed(2)} s`,
      ratio: l / h,
      goal: '≤ 1.1×',
      limit: 1.1,
      detail: `lago: ${splitText(medianSplit(lago.map((x) => x.split)))}; by hand: ${splitText(medianSplit(hand.map((x) => x.split)))}`,
    })
    if (count > 1) {
      const ls = median(lagoStop)
      const hs = median(handStop)
      record({name: `stop ${count} VMs`, value: ls, unit: 's', baseline: `by hand ${hs.toFixed(2)} s`, ratio: ls / hs, goal: '≤ 1.2×', limit: 1.2})
    }
    if (count === 3) {
      const resumes = []
      const byHand = []
      let coldFallbacks = 0
      let portFallbacks = 0
      for (let r = 0; r < rounds; r++) {
        must(process.execPath, [cli, 'start'], {cwd: target.prefix})
        must(process.execPath, [cli, 'stop', '--save'], {cwd: target.prefix})
        await settle()
        const t0 = process.hrtime.bigint()
        const output = must(process.execPath, [cli, 'start'], {cwd: target.prefix, withStderr: true})
        resumes.push(seconds(t0))
        if (/booting it cold/.test(output)) coldFallbacks++
        if (/setting its clock on/.test(output)) portFallbacks++
        byHand.push(await resumeByHand(target))
        must(process.execPath, [cli, 'stop'], {cwd: target.prefix})
      }
      const h = median(byHand)
      record({
        name: 'start 3 saved VMs until SSH',
        value: median(resumes),
        unit: 's',
        baseline: `by hand ${h.toFixed(2)} s`,
        ratio: median(resumes) / h,
        goal: '≤ 2 s',
        limit: 2,
        absolute: true,
        detail: `runs ${resumes.map((x) => x.toFixed(2)).join('/')}; by hand ${byHand.map((x) => x.toFixed(2)).join('/')}${coldFallbacks > 0 ? `; ${coldFallbacks} run(s) fell back to a cold boot` : ''}${portFallbacks > 0 ? `; ${portFallbacks} run(s) set a clock over SSH` : ''}`,
      })
    }
    must(process.execPath, [cli, 'destroy', '--yes'], {cwd: target.prefix})
    prefixes.pop()
  }
} finally {
  for (const prefix of prefixes) spawnSync(process.execPath, [cli, 'destroy', '--yes'], {cwd: prefix, env})
  rmSync(work, {recursive: true, force: true})
}
if (process.argv.includes('--json')) console.log(JSON.stringify(results))
