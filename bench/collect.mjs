#!/usr/bin/env node
// `lago collect` of a ~200 MiB tree (3 large files, 2000 small ones) from a guest, against
// the same copy by hand in the same session: the system ssh client with the prefix key
// piping `tar c` from the guest into a local `tar x`. Rounds alternate which goes first.
// Needs root and the test namespace:
//   ip netns exec lago-test node bench/collect.mjs [--rounds 5] [--large-mib 50] [--small 2000]
import {spawn, spawnSync} from 'node:child_process'
import {readFileSync, rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {benchWork, cli, median, tinyTemplateRepo} from './lib.mjs'

const arg = (name, fallback) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : fallback)
const rounds = Number(arg('--rounds', '5'))
const largeMiB = Number(arg('--large-mib', '50'))
const smallCount = Number(arg('--small', '2000'))
const {work, env, must} = benchWork('collect')
const lago = (...args) => must(process.execPath, [cli, ...args], {cwd: prefix})

const repoJson = tinyTemplateRepo(work, must)
// The template's root has ~920 MiB free: enough for the tree, no data disk needed.
writeFileSync(
  path.join(work, 'LagoInitFile'),
  `domains:\n  vm0:\n    memory: 256\n    vcpu: 1\n    nics: [{net: lago}]\n    disks: [{type: template, template_name: tiny, name: root, dev: vda}]\n    artifacts: [/data]\nnets:\n  lago: {type: nat}\n`,
)
const prefix = path.join(work, 'env')

function timed(fn) {
  const t0 = process.hrtime.bigint()
  return Promise.resolve(fn()).then(() => Number(process.hrtime.bigint() - t0) / 1e9)
}

function byHand(ip, key, out) {
  must('mkdir', ['-p', out])
  return new Promise((resolve, reject) => {
    const ssh = spawn(
      'ssh',
      ['-i', key, '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', '-o', 'BatchMode=yes', `root@${ip}`, 'tar -c -h -f - -C / data'],
      {stdio: ['ignore', 'pipe', 'inherit']},
    )
    const tar = spawn('tar', ['-x', '-f', '-', '-C', out, '--no-same-owner'], {stdio: ['pipe', 'ignore', 'inherit']})
    ssh.stdout.pipe(tar.stdin)
    let pending = 2
    const done = (what) => (code) => {
      if (code !== 0) reject(new Error(`${what} exited ${code}`))
      else if (--pending === 0) resolve()
    }
    ssh.on('exit', done('ssh'))
    tar.on('exit', done('tar'))
  })
}

try {
  must(process.execPath, [cli, 'init', prefix, path.join(work, 'LagoInitFile'), '--template-repo-path', repoJson])
  lago('start')
  const state = JSON.parse(readFileSync(path.join(prefix, '.lago/state.json'), 'utf8'))
  const ip = state.vms[0].nics[0].ip
  const key = path.join(prefix, '.lago/id_ed25519')
  const makeTree = [
    'set -e',
    'mkdir -p /data/large /data/small',
    `for i in 1 2 3; do head -c ${largeMiB * 1024 * 1024} /dev/urandom > /data/large/file$i.bin; done`,
    `i=0; while [ $i -lt ${smallCount} ]; do d=/data/small/dir$((i % 20)); mkdir -p $d; head -c $((10240 + (i % 31) * 1024)) /dev/urandom > $d/f$i.txt; i=$((i + 1)); done`,
    'sync',
    'du -sk /data | cut -f1',
  ].join('\n')
  const t0 = Date.now()
  const kib = Number(lago('shell', 'vm0', '-c', makeTree).trim().split('\n').pop())
  const mib = kib / 1024
  console.log(`tree on the guest: ${mib.toFixed(0)} MiB (3 × ${largeMiB} MiB + ${smallCount} small files), made in ${((Date.now() - t0) / 1000).toFixed(0)} s`)
  const results = {lago: [], hand: []}
  for (let round = 1; round <= rounds; round++) {
    const runs = [
      ['lago', () => lago('collect', '--output', path.join(work, `out-lago-${round}`))],
      ['hand', () => byHand(ip, key, path.join(work, `out-hand-${round}`))],
    ]
    if (round % 2 === 0) runs.reverse()
    for (const [name, fn] of runs) {
      const seconds = await timed(fn)
      results[name].push(seconds)
      console.log(`round ${round}: ${name === 'lago' ? 'lago collect' : 'ssh tar | tar'}: ${seconds.toFixed(2)} s, ${(mib / seconds).toFixed(1)} MiB/s`)
    }
    rmSync(path.join(work, `out-lago-${round}`), {recursive: true, force: true})
    rmSync(path.join(work, `out-hand-${round}`), {recursive: true, force: true})
  }
  const lagoRate = mib / median(results.lago)
  const handRate = mib / median(results.hand)
  // Other work on the host moves both numbers a lot: the ratio within each round is steadier.
  const paired = results.lago.map((seconds, i) => results.hand[i] / seconds)
  console.log(`median: lago collect ${lagoRate.toFixed(1)} MiB/s, ssh tar by hand ${handRate.toFixed(1)} MiB/s`)
  console.log(`per-round ratios (lago / by hand): ${paired.map((r) => r.toFixed(2)).join(', ')}`)
  console.log(`ratio (median of the rounds): ${median(paired).toFixed(2)}× (goal ≥ 0.8×)`)
} finally {
  spawnSync(process.execPath, [cli, 'destroy', '--yes', '--prefix-path', prefix], {env, stdio: 'ignore'})
  rmSync(work, {recursive: true, force: true})
}
