#!/usr/bin/env node
// `lago start` until the VM answers on SSH, one VM, in system mode (qemu:///system: a libvirt
// network with dnsmasq, SSH on the guest's address) and in session mode (qemu:///session:
// loopback multicast segment, static address from the seed, SSH forwarded from 127.0.0.1),
// interleaved in the same run. Session mode runs as root here (LAGO__LIBVIRT__URI): the uid
// changes nothing in the path being timed. Needs root and the test namespace:
//   ip netns exec lago-test node bench/rootless.mjs [--rounds 3]
import {chmodSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {benchEnv, cli, median, mustRunner, root, tinyTemplateRepo} from './lib.mjs'

const arg = (name, fallback) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : fallback)
const rounds = Number(arg('--rounds', '3'))
const work = mkdtempSync(path.join(root, 'test/.tmp/bench-rootless-'))
chmodSync(work, 0o755)
const modes = {
  system: mustRunner(benchEnv(work, {LAGO__LIBVIRT__URI: 'qemu:///system'})),
  session: mustRunner(benchEnv(work, {LAGO__LIBVIRT__URI: 'qemu:///session'})),
}
const repo = tinyTemplateRepo(work, modes.system)
const initFile = path.join(work, 'LagoInitFile')
writeFileSync(
  initFile,
  `domains:\n  vm0:\n    memory: 256\n    vcpu: 1\n    nics: [{net: lago}]\n    disks: [{type: template, template_name: tiny, name: root, dev: vda}]\nnets:\n  lago: {type: nat}\n`,
)

function timedStart(mode) {
  const must = modes[mode]
  const prefix = path.join(work, mode)
  const t0 = process.hrtime.bigint()
  must(process.execPath, [cli, 'start'], {cwd: prefix})
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9
  must(process.execPath, [cli, 'stop'], {cwd: prefix})
  return seconds
}

const times = {system: [], session: []}
try {
  for (const [mode, must] of Object.entries(modes)) {
    must(process.execPath, [cli, 'init', path.join(work, mode), initFile, '--template-repo-path', repo])
    timedStart(mode) // the first boot makes the guest's SSH host keys: not measured
  }
  for (let r = 0; r < rounds; r++) {
    for (const mode of r % 2 === 0 ? ['system', 'session'] : ['session', 'system']) times[mode].push(timedStart(mode))
  }
} finally {
  for (const [mode, must] of Object.entries(modes)) {
    try {
      must(process.execPath, [cli, 'destroy', '--yes'], {cwd: path.join(work, mode)})
    } catch (error) {
      console.error(`could not destroy the ${mode} prefix: ${error.message}`)
    }
  }
}
const [sys, ses] = [median(times.system), median(times.session)]
console.log(`start→SSH, 1 VM: system ${sys.toFixed(1)} s, session ${ses.toFixed(1)} s, ratio session/system ${(ses / sys).toFixed(2)}×`)
console.log(`  (system ${times.system.map((s) => s.toFixed(1)).join('/')}, session ${times.session.map((s) => s.toFixed(1)).join('/')})`)
if (process.argv.includes('--json')) console.log(JSON.stringify({systemSeconds: sys, sessionSeconds: ses, ratio: ses / sys}))
rmSync(work, {recursive: true, force: true})
