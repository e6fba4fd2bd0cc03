#!/usr/bin/env node
// Template benchmarks, on loopback only:
//  1. download throughput of `lago template pull` (streamed, sha256-verified in the same pass,
//     written to the store) against `curl -o` of the same file from the same server, interleaved;
//  2. wall time of `lago init` for a 10-VM init file on a warm store (template already stored).
// Usage: node bench/templates.mjs [--json]   (BENCH_MB=1024 BENCH_RUNS=5 to change sizes;
// BENCH_RATE_MIBPS=110 paces the server like a 1 Gbit/s link instead of unlimited loopback)
// Needs curl and qemu-img. Writes below $TMPDIR; cleans up after itself.
import {spawn} from 'node:child_process'
import {createHash} from 'node:crypto'
import {mkdirSync, mkdtempSync, openSync, rmSync, statSync, writeFileSync, writeSync, closeSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {benchEnv, cli, median, mustRunner, root} from './lib.mjs'
import {randomBytes} from 'node:crypto'

const megabytes = Number(process.env.BENCH_MB ?? 1024)
const runs = Number(process.env.BENCH_RUNS ?? 5)
const work = mkdtempSync(path.join(os.tmpdir(), 'lago-bench-templates-'))
const env = benchEnv(work)
const must = mustRunner(env)

function timed(file, args, options = {}) {
  const start = process.hrtime.bigint()
  must(file, args, options)
  return Number(process.hrtime.bigint() - start) / 1e9
}

// The image: incompressible bytes, written in 8 MiB blocks; its sha256 is published beside it.
const www = path.join(work, 'www')
mkdirSync(www)
const big = path.join(www, 'big.img')
const hash = createHash('sha256')
const fd = openSync(big, 'w')
for (let i = 0; i < megabytes / 8; i++) {
  const block = randomBytes(8 * 1024 * 1024)
  hash.update(block)
  writeSync(fd, block)
}
closeSync(fd)
writeFileSync(`${big}.hash`, `${hash.digest('hex')}\n`)
must('qemu-img', ['create', '-q', '-f', 'qcow2', path.join(www, 'tiny.qcow2'), '64M'])

// A plain static server in its own process, so it competes with curl and lago alike
// (optionally paced to BENCH_RATE_MIBPS).
const serverScript = path.join(work, 'server.mjs')
writeFileSync(
  serverScript,
  `import http from 'node:http'; import {createReadStream, statSync, existsSync} from 'node:fs'; import path from 'node:path'
const dir = process.argv[2]
const rate = Number(process.env.BENCH_RATE_MIBPS || 0) * 1048576
const server = http.createServer((req, res) => {
  const file = path.join(dir, decodeURIComponent(new URL(req.url, 'http://x').pathname))
  if (!existsSync(file)) { res.writeHead(404).end(); return }
  res.writeHead(200, {'content-length': statSync(file).size})
  const stream = createReadStream(file, {highWaterMark: 1 << 20})
  if (!rate) return void stream.pipe(res)
  const start = Date.now()
  let sent = 0
  stream.on('data', (chunk) => {
    res.write(chunk)
    sent += chunk.length
    const wait = start + (sent / rate) * 1000 - Date.now()
    if (wait > 0) stream.pause(), setTimeout(() => stream.resume(), wait)
  })
  stream.on('end', () => res.end())
})
server.listen(0, '127.0.0.1', () => console.log(server.address().port))`,
)
const server = spawn(process.execPath, [serverScript, www], {stdio: ['ignore', 'pipe', 'inherit']})
const port = await new Promise((resolve) => server.stdout.once('data', (d) => resolve(Number(String(d).trim()))))
const base = `http://127.0.0.1:${port}`
writeFileSync(
  path.join(www, 'repo.json'),
  JSON.stringify({
    name: 'bench',
    sources: {web: {type: 'http', args: {baseurl: `${base}/`}}},
    templates: {big: {versions: {v1: {source: 'web', handle: 'big.img', timestamp: 1}}}, tiny: {versions: {v1: {source: 'web', handle: 'tiny.qcow2', timestamp: 1}}}},
  }),
)
const repo = `${base}/repo.json`

try {
  // 1. Throughput, interleaved so machine noise hits both alike (a warm-up round first).
  const curl = []
  const lago = []
  const engine = []
  const engineScript = path.join(work, 'engine.mjs')
  writeFileSync(
    engineScript,
    `import {download} from ${JSON.stringify(path.join(root, 'packages/core/lib/templates/download.js'))}
import {readFileSync} from 'node:fs'
await download(process.argv[2], process.argv[3], {expected: {algorithm: 'sha256', hex: readFileSync(process.argv[4], 'utf8').trim()}})`,
  )
  for (let i = 0; i <= runs; i++) {
    const out = path.join(work, 'curl.out')
    const c = timed('curl', ['-sS', '--fail', '-o', out, `${base}/big.img`])
    rmSync(out)
    const store = path.join(work, `store-${i}`)
    const l = timed(process.execPath, [cli, 'template', 'pull', 'big', '--template-repo-path', repo, '--template-store', store])
    if (statSync(path.join(store, 'bench:big:v1')).size !== megabytes * 1024 * 1024) throw new Error('incomplete download')
    rmSync(store, {recursive: true, force: true})
    const e = timed(process.execPath, [engineScript, `${base}/big.img`, out, `${big}.hash`])
    rmSync(out)
    if (i > 0) {
      curl.push(c)
      lago.push(l)
      engine.push(e)
    }
  }
  const mib = megabytes
  const curlRate = mib / median(curl)
  const lagoRate = mib / median(lago)
  const engineRate = mib / median(engine)

  // 2. Warm-store init of 10 VMs.
  const initFile = path.join(work, 'LagoInitFile')
  let text = 'domains:\n'
  for (let i = 0; i < 10; i++) text += `  vm${i}:\n    memory: 256\n    nics: [{net: lago}]\n    disks: [{type: template, template_name: tiny}]\n`
  writeFileSync(initFile, `${text}nets:\n  lago: {}\n`)
  const warmStore = path.join(work, 'store-warm')
  must(process.execPath, [cli, 'template', 'pull', 'tiny', '--template-repo-path', repo, '--template-store', warmStore])
  const inits = []
  for (let i = 0; i <= runs; i++) {
    const prefix = path.join(work, `env-${i}`)
    const t = timed(process.execPath, [cli, 'init', prefix, initFile, '--template-repo-path', repo, '--template-store', warmStore])
    must(process.execPath, [cli, 'cleanup', '--prefix-path', prefix])
    if (i > 0) inits.push(t)
  }
  const report = {
    download: {
      megabytes: mib,
      curlMiBps: Number(curlRate.toFixed(1)),
      lagoMiBps: Number(lagoRate.toFixed(1)),
      ratio: Number((lagoRate / curlRate).toFixed(2)),
      engineMiBps: Number(engineRate.toFixed(1)),
      engineRatio: Number((engineRate / curlRate).toFixed(2)),
      goal: 0.9,
    },
    warmInit10Vms: {medianSeconds: Number(median(inits).toFixed(2)), runs: inits.map((t) => Number(t.toFixed(2))), goal: 1},
  }
  console.log(
    `download ${mib} MiB${process.env.BENCH_RATE_MIBPS ? ` (server paced to ${process.env.BENCH_RATE_MIBPS} MiB/s)` : ` (loopback, unpaced)`}: curl ${curlRate.toFixed(0)} MiB/s, lago template pull (sha256 verified, stored) ${lagoRate.toFixed(0)} MiB/s: ${(lagoRate / curlRate).toFixed(2)}× curl (goal >= 0.9)`,
  )
  console.log(`  the download engine alone (no CLI start-up, no store): ${engineRate.toFixed(0)} MiB/s: ${(engineRate / curlRate).toFixed(2)}× curl`)
  console.log(`warm-store lago init, 10 VMs: median ${median(inits).toFixed(2)} s over ${inits.length} runs (goal <= 1 s)`)
  if (process.argv.includes('--json')) console.log(JSON.stringify(report))
} finally {
  server.kill()
  rmSync(work, {recursive: true, force: true})
}
