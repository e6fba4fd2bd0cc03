#!/usr/bin/env node
// Remote hypervisor benchmark: `lago shell VM -c true` through Lago's tunnel (via stand-in
// host 1, test/harness/remote-host.sh) against `ssh -J root@HOST root@GUEST true` by hand,
// interleaved in the same run so machine noise hits both alike. Prints medians and the ratio.
// Run as root inside the test namespace: ip netns exec lago-test node bench/remote.mjs [--json]
import {mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {benchEnv, cli, median, mustRunner, root} from './lib.mjs'

const runs = Number(process.env.BENCH_RUNS ?? 15)
const work = mkdtempSync(path.join(os.tmpdir(), 'lago-bench-remote-'))
const key = '/var/lib/lago-test-remote/id_ed25519'
const host = '10.249.1.2'
const uri = `qemu+ssh://root@${host}/system?keyfile=${key}&no_verify=1`
const env = benchEnv(work, {LAGO__LIBVIRT__URI: uri, LAGO__REMOTE__DIR: '/var/lib/libvirt/lago-remote', LAGO__SSH__BOOT_TIMEOUT: '600'})
const must = mustRunner(env)

must('bash', [path.join(root, 'test/harness/remote-host.sh'), 'up', '1'])
const image = must('bash', [path.join(root, 'test/harness/build-guest-image.sh')])
  .trim()
  .split('\n')
  .pop()
mkdirSync(path.join(work, 'repo'))
symlinkSync(image, path.join(work, 'repo', 'tiny.qcow2'))
writeFileSync(path.join(work, 'repo', 'tiny.qcow2.metadata'), readFileSync(`${image}.metadata`))
writeFileSync(
  path.join(work, 'repo.json'),
  JSON.stringify({name: 'bench', sources: {l: {type: 'file', args: {root: path.join(work, 'repo')}}}, templates: {tiny: {versions: {v1: {source: 'l', handle: 'tiny.qcow2', timestamp: 1}}}}}),
)
writeFileSync(
  path.join(work, 'LagoInitFile'),
  'domains:\n  vm0:\n    memory: 256\n    nics: [{net: n}]\n    disks: [{type: template, template_name: tiny, name: root, dev: vda}]\nnets:\n  n: {type: nat}\n',
)
const prefix = path.join(work, 'env')
try {
  must(process.execPath, [cli, 'init', prefix, path.join(work, 'LagoInitFile'), '--template-repo-path', path.join(work, 'repo.json')])
  must(process.execPath, [cli, 'start'], {cwd: prefix})
  const guest = JSON.parse(must(process.execPath, [cli, 'status', '--json'], {cwd: prefix})).vms[0].ip
  const sshOptions = ['-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=error', '-o', 'BatchMode=yes']
  // ssh -J with a different key per hop: the jump host's key goes in a ProxyJump-equivalent command.
  const byHand = ['ssh', [...sshOptions, '-i', path.join(prefix, '.lago', 'id_ed25519'), '-o', `ProxyCommand=ssh ${sshOptions.join(' ')} -i ${key} -W %h:%p root@${host}`, `root@${guest}`, 'true']]
  const cases = {
    'ssh -J root@hypervisor root@guest true': byHand,
    // Later commands reuse the hypervisor login the first left open ([remote] persist_seconds, 60 by default).
    'lago shell vm0 -c true': [process.execPath, [cli, 'shell', 'vm0', '-c', 'true']],
    // Every command logging in to the hypervisor itself, as `ssh -J` does.
    'lago shell, persist_seconds=0': [process.execPath, [cli, 'shell', 'vm0', '-c', 'true'], {LAGO__REMOTE__PERSIST_SECONDS: '0'}],
    // What of lago's time is the CLI starting at all (node, oclif, the command's modules).
    'lago --version (start-up alone)': [process.execPath, [cli, '--version']],
  }
  const times = Object.fromEntries(Object.keys(cases).map((k) => [k, []]))
  for (let i = 0; i < runs + 2; i++) {
    for (const [name, [file, args, extraEnv]] of Object.entries(cases)) {
      const start = process.hrtime.bigint()
      must(file, args, {cwd: prefix, env: {...env, ...extraEnv}})
      const ms = Number(process.hrtime.bigint() - start) / 1e6
      if (i >= 2) times[name].push(ms) // the first two rounds warm caches
    }
  }
  const base = median(times['ssh -J root@hypervisor root@guest true'])
  const report = {}
  for (const [name, values] of Object.entries(times)) {
    const m = median(values)
    report[name] = {medianMs: Number(m.toFixed(1)), ratio: Number((m / base).toFixed(2))}
    console.log(`${name.padEnd(40)} median ${m.toFixed(1).padStart(7)} ms   ${(m / base).toFixed(2)}× ssh -J`)
  }
  if (process.argv.includes('--json')) console.log(JSON.stringify(report))
} finally {
  must(process.execPath, [cli, 'destroy', '--yes', '--prefix-path', prefix])
  rmSync(work, {recursive: true, force: true})
}
