#!/usr/bin/env node
// Golden environments: time from `lago init --from` to every VM answering on SSH, for one
// copy and for three copies at once, against `init + start + deploy` of the same two-VM
// environment from scratch, in the same run. Needs root and the test namespace:
//   ip netns exec lago-test node bench/golden.mjs [--deploy-seconds 60]
// The deploy does CPU work in the guests for about --deploy-seconds (plus a marker): how
// much faster a copy is depends on how long provisioning takes against a boot.
import {spawn} from 'node:child_process'
import {chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {benchEnv, cli, mustRunner, root} from './lib.mjs'

const arg = (name, fallback) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : fallback)
const deploySeconds = Number(arg('--deploy-seconds', '60'))
mkdirSync(path.join(root, 'test/.tmp'), {recursive: true})
const work = mkdtempSync(path.join(root, 'test/.tmp/bench-golden-'))
chmodSync(work, 0o755)
const env = benchEnv(work, {LAGO__SSH__BOOT_TIMEOUT: '300'})
const must = mustRunner(env)

const image = must('bash', [path.join(root, 'test/harness/build-guest-image.sh')])
  .trim()
  .split('\n')
  .pop()
const repoDir = path.join(work, 'repo')
mkdirSync(repoDir)
symlinkSync(image, path.join(repoDir, 'tiny.qcow2'))
writeFileSync(path.join(repoDir, 'tiny.qcow2.hash'), readFileSync(`${image}.sha256`, 'utf8').split(/\s+/)[0])
copyFileSync(`${image}.metadata`, path.join(repoDir, 'tiny.qcow2.metadata'))
const repo = path.join(work, 'repo.json')
writeFileSync(repo, JSON.stringify({name: 'bench', sources: {l: {type: 'file', args: {root: repoDir}}}, templates: {tiny: {versions: {v1: {source: 'l', handle: 'tiny.qcow2', timestamp: 1}}}}}))
mkdirSync(path.join(work, 'scripts'))
writeFileSync(
  path.join(work, 'scripts/provision.sh'),
  `#!/bin/sh\nend=$(( $(date +%s) + ${deploySeconds} ))\nwhile [ "$(date +%s)" -lt "$end" ]; do head -c 1048576 /dev/urandom | sha256sum >/dev/null; done\necho provisioned >/var/lib/provisioned\nsync\n`,
)
const vm = (name) =>
  `  ${name}:\n    memory: 256\n    vcpu: 1\n    nics: [{net: lago}]\n    disks: [{type: template, template_name: tiny, name: root, dev: vda}]\n    deploy-scripts: [scripts/provision.sh]\n`
const initFile = path.join(work, 'LagoInitFile')
writeFileSync(initFile, `domains:\n${vm('vm0')}${vm('vm1')}nets:\n  lago:\n    type: nat\n`)

/** Run the CLI; resolves with its stdout, rejects with its output on failure. */
function lago(args, cwd = work) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], {cwd, env, stdio: ['ignore', 'pipe', 'pipe']})
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (out += d))
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`lago ${args.join(' ')} failed (${code}): ${out}`))))
  })
}
const seconds = (t0) => Number(process.hrtime.bigint() - t0) / 1e9
const dir = (name) => path.join(work, name)
const made = []

async function copy(name) {
  made.push(dir(name))
  await lago(['init', dir(name), '--from', 'bench-golden'])
  await lago(['start'], dir(name))
}

try {
  let t0 = process.hrtime.bigint()
  made.push(dir('scratch'))
  await lago(['init', dir('scratch'), initFile, '--template-repo-path', repo])
  await lago(['start'], dir('scratch'))
  const booted = seconds(t0)
  await lago(['deploy'], dir('scratch'))
  const scratch = seconds(t0)
  t0 = process.hrtime.bigint()
  await lago(['freeze', 'bench-golden', '--no-restart'], dir('scratch'))
  const freeze = seconds(t0)
  await lago(['cleanup'], dir('scratch'))

  t0 = process.hrtime.bigint()
  await copy('one')
  const one = seconds(t0)
  await lago(['cleanup'], dir('one'))

  t0 = process.hrtime.bigint()
  await Promise.all(['c1', 'c2', 'c3'].map(copy))
  const three = seconds(t0)

  const f = (s) => `${s.toFixed(1)} s`
  console.log(`two VMs (256 MiB, TCG), deploy ~${deploySeconds} s of work per VM`)
  console.log(`from scratch: init + start + deploy  ${f(scratch)} (init + start ${f(booted)}, deploy ${f(scratch - booted)})`)
  console.log(`freeze (disks layered on the template) ${f(freeze)}`)
  console.log(`one copy: init --from + start         ${f(one)}  -> ${(scratch / one).toFixed(1)}x faster`)
  console.log(`three copies at once                   ${f(three)}  -> ${(scratch / three).toFixed(1)}x faster than one from scratch, ${((3 * scratch) / three).toFixed(1)}x than three`)
} finally {
  await Promise.all(made.map((d) => lago(['destroy', '--yes'], d).catch(() => undefined)))
  rmSync(work, {recursive: true, force: true})
}
