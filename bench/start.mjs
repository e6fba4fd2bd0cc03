#!/usr/bin/env node
// `lago start` until every VM answers on SSH, against booting the same prepared guests by
// hand (virsh net-create + virsh create in parallel, then waiting for port 22), for 1 and
// 10 VMs, interleaved. Needs root and the test namespace:
//   ip netns exec lago-test node bench/start.mjs [--counts 1,10] [--rounds 2]
import {spawn} from 'node:child_process'
import {mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, chmodSync} from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import {benchEnv, cli, median, mustRunner, root, tinyRepo} from './lib.mjs'

const arg = (name, fallback) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : fallback)
const counts = arg('--counts', '1,10').split(',').map(Number)
const rounds = Number(arg('--rounds', '2'))
const work = mkdtempSync(path.join(root, 'test/.tmp/bench-start-'))
chmodSync(work, 0o755)
const env = benchEnv(work)
const must = mustRunner(env)
const virsh = (...args) => must('virsh', ['-q', '-c', 'qemu:///system', ...args])

tinyRepo(work, must)

function portOpen(host) {
  return new Promise((resolve) => {
    const s = net.connect({host, port: 22})
    const done = (ok) => (s.destroy(), resolve(ok))
    s.setTimeout(1000, () => done(false))
    s.once('connect', () => done(true))
    s.once('error', () => done(false))
  })
}
async function waitPorts(ips) {
  await Promise.all(
    ips.map(async (ip) => {
      while (!(await portOpen(ip))) await new Promise((r) => setTimeout(r, 100))
    }),
  )
}

async function byHand(prefix, state) {
  const xmlDir = path.join(prefix, '.lago/libvirt')
  const t0 = process.hrtime.bigint()
  for (const f of readdirSync(xmlDir).filter((f) => f.startsWith('net-'))) virsh('net-create', path.join(xmlDir, f))
  await Promise.all(
    readdirSync(xmlDir)
      .filter((f) => f.startsWith('vm-'))
      .map(
        (f) =>
          new Promise((resolve, reject) => {
            const p = spawn('virsh', ['-q', '-c', 'qemu:///system', 'create', path.join(xmlDir, f)], {stdio: 'ignore'})
            p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`virsh create ${f} failed`))))
          }),
      ),
  )
  await waitPorts(state.vms.map((vm) => vm.nics[0].ip))
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9
  must(process.execPath, [cli, 'stop'], {cwd: prefix})
  return seconds
}

function withLago(prefix) {
  const t0 = process.hrtime.bigint()
  must(process.execPath, [cli, 'start'], {cwd: prefix})
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9
  must(process.execPath, [cli, 'stop'], {cwd: prefix})
  return seconds
}

const results = {}
for (const count of counts) {
  const domains = Array.from({length: count}, (_, i) => `  vm${i}:\n    memory: 256\n    vcpu: 1\n    nics: [{net: lago}]\n    disks: [{type: template, template_name: tiny}]`).join('\n')
  writeFileSync(path.join(work, `init-${count}.yaml`), `domains:\n${domains}\nnets:\n  lago: {}\n`)
  const prefix = path.join(work, `env-${count}`)
  must(process.execPath, [cli, 'init', prefix, path.join(work, `init-${count}.yaml`), '--template-repo-path', path.join(work, 'repo.json')])
  const state = JSON.parse(readFileSync(path.join(prefix, '.lago/state.json'), 'utf8'))
  withLago(prefix) // first boot generates SSH host keys; not measured
  const lago = []
  const hand = []
  for (let r = 0; r < rounds; r++) {
    hand.push(await byHand(prefix, state))
    lago.push(withLago(prefix))
  }
  results[count] = {lagoSeconds: median(lago), byHandSeconds: median(hand), ratio: median(lago) / median(hand)}
  console.log(
    `${String(count).padStart(2)} VM(s): lago start ${median(lago).toFixed(1)} s, by hand ${median(hand).toFixed(1)} s, ratio ${(median(lago) / median(hand)).toFixed(2)}×  (lago ${lago.map((s) => s.toFixed(1)).join('/')}, hand ${hand.map((s) => s.toFixed(1)).join('/')})`,
  )
  must(process.execPath, [cli, 'destroy', '--yes'], {cwd: prefix})
}
if (process.argv.includes('--json')) console.log(JSON.stringify(results))
rmSync(work, {recursive: true, force: true})
