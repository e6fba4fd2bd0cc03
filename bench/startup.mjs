#!/usr/bin/env node
// Start-up benchmark: `lago --help` and `lago status` (inside a stopped prefix) against
// `node -e 0`, run interleaved so machine noise hits all alike. Prints medians and ratios.
// Run inside the test namespace when libvirtd lives there: ip netns exec lago-test node bench/startup.mjs
import {spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)))
const runs = Number(process.env.BENCH_RUNS ?? 20)
const cli = path.join(root, 'packages/cli/bin/run.js')
const env = {...process.env, LAGO_DATA_DIR: path.join(root, '.data'), OCLIF_SKIP_NEW_VERSION_CHECK: 'true'}
const work = mkdtempSync(path.join(os.tmpdir(), 'lago-bench-'))

function must(file, args, options = {}) {
  const result = spawnSync(file, args, {encoding: 'utf8', env, ...options})
  if (result.status !== 0) throw new Error(`${file} ${args.join(' ')} failed: ${result.stderr}`)
  return result.stdout
}

// A prefix to run status in: one VM on a tiny empty template, never started.
const image = path.join(work, 'tiny.qcow2')
must('qemu-img', ['create', '-q', '-f', 'qcow2', image, '16M'])
writeFileSync(
  path.join(work, 'repo.json'),
  JSON.stringify({name: 'bench', sources: {l: {type: 'file', args: {root: work}}}, templates: {t: {versions: {v1: {source: 'l', handle: 'tiny.qcow2', timestamp: 1}}}}}),
)
writeFileSync(path.join(work, 'LagoInitFile'), 'domains:\n  vm0:\n    memory: 128\n    nics: [{net: n}]\n    disks: [{type: template, template_name: t}]\nnets:\n  n: {}\n')
const prefix = path.join(work, 'env')
const isolation = {LAGO_TEMPLATE_STORE: path.join(work, 'store'), LAGO_LEASE_DIR: path.join(work, 'subnets')}
Object.assign(env, isolation)
must(process.execPath, [cli, 'init', prefix, path.join(work, 'LagoInitFile'), '--template-repo-path', path.join(work, 'repo.json')])

const cases = {
  'node -e 0': [process.execPath, ['-e', '0'], {}],
  'lago --help': [process.execPath, [cli, '--help'], {}],
  'lago status': [process.execPath, [cli, 'status'], {cwd: prefix}],
}
const times = Object.fromEntries(Object.keys(cases).map((k) => [k, []]))
for (let i = 0; i < runs + 2; i++) {
  for (const [name, [file, args, options]] of Object.entries(cases)) {
    const start = process.hrtime.bigint()
    must(file, args, options)
    const ms = Number(process.hrtime.bigint() - start) / 1e6
    if (i >= 2) times[name].push(ms) // first two rounds warm the page cache
  }
}
const median = (values) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]
const base = median(times['node -e 0'])
const report = {}
for (const [name, values] of Object.entries(times)) {
  const m = median(values)
  report[name] = {medianMs: Number(m.toFixed(1)), ratio: Number((m / base).toFixed(2))}
  console.log(`${name.padEnd(12)} median ${m.toFixed(1).padStart(6)} ms   ${(m / base).toFixed(2)}× node -e 0`)
}
if (process.argv.includes('--json')) console.log(JSON.stringify(report))
spawnSync(process.execPath, [cli, 'cleanup'], {cwd: prefix, env})
rmSync(work, {recursive: true, force: true})
