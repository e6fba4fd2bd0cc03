#!/usr/bin/env node
// `npm run bench`: every speed figure of the project in one run and one table (figure, the
// same done without Lago, ratio, goal). Run as root; it enters the test namespace itself
// (starting the test libvirtd there when it is not running) and removes all it creates.
//   npm run bench [-- --counts 1,3,10] [-- --rounds 2] [-- --markdown]
import {spawnSync} from 'node:child_process'
import os from 'node:os'
import path from 'node:path'
import {root} from './lib.mjs'

const netns = process.env.LAGO_TEST_NETNS ?? 'lago-test'
const args = process.argv.slice(2)

if (process.getuid?.() !== 0) {
  console.error('bench: run as root (it boots VMs in the test namespace, as the e2e tests do)')
  process.exit(2)
}
if (spawnSync('ip', ['netns', 'identify', String(process.pid)], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore']}).stdout.trim() !== netns) {
  const setup = spawnSync('bash', [path.join(root, 'test/harness/host-setup.sh')], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {...process.env, LAGO_TEST_SKIP_APT: process.env.LAGO_TEST_SKIP_APT ?? '1'},
  })
  if (setup.status !== 0) process.exit(setup.status ?? 1)
  const inside = spawnSync('ip', ['netns', 'exec', netns, process.execPath, ...process.argv.slice(1)], {stdio: 'inherit'})
  process.exit(inside.status ?? 1)
}

const speed = spawnSync(process.execPath, [path.join(root, 'bench/speed.mjs'), ...args, '--json'], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit']})
const lines = speed.stdout.trim().split('\n')
for (const line of lines.slice(0, -1)) console.error(line)
if (speed.status !== 0) {
  console.log(speed.stdout)
  process.exit(speed.status ?? 1)
}
const results = JSON.parse(lines.at(-1))

const cpu = os.cpus()
const host = `${os.hostname()}: ${cpu.length} × ${cpu[0]?.model.trim() ?? 'CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, load ${os
  .loadavg()
  .map((l) => l.toFixed(1))
  .join('/')} at the end, ${new Date().toISOString().slice(0, 16)}Z`
const format = (r) => `${r.value.toFixed(r.unit === 's' ? 2 : 0)} ${r.unit}`
const rows = results.map((r) => [r.name, format(r), r.baseline ?? '', r.ratio === undefined ? '' : `${r.ratio.toFixed(2)}×`, r.goal, r.met ? 'yes' : 'NO', r.detail ?? ''])
const header = ['figure', 'Lago', 'without Lago', 'ratio', 'goal', 'met', 'split / notes']
if (args.includes('--markdown')) {
  console.log(`Host: ${host}\n`)
  console.log(`| ${header.join(' | ')} |\n| ${header.map(() => '---').join(' | ')} |`)
  for (const row of rows) console.log(`| ${row.join(' | ')} |`)
} else {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)))
  const line = (cells) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ')
  console.log(`\nHost: ${host}\n`)
  console.log(line(header))
  for (const row of rows) console.log(line(row))
}
