#!/usr/bin/env node
// reposetup benchmark: a loopback yum repository of N packages (BENCH_PACKAGES, default 200,
// ~64 KiB of random data each) synced cold into an empty cache, then again with nothing
// changed (the rerun must take seconds and reuse the cache), then from a second prefix.
// Run inside the test namespace: ip netns exec lago-test node bench/reposetup.mjs
import {spawn} from 'node:child_process'
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {benchEnv, mustRunner, root} from './lib.mjs'

const count = Number(process.env.BENCH_PACKAGES ?? 200)
const work = mkdtempSync(path.join(os.tmpdir(), 'lago-bench-reposetup-'))
const env = benchEnv(work, {LAGO__OVIRT__REPOSYNC_DIR: path.join(work, 'reposync')})
const must = mustRunner(env)
const lago = (args, cwd) => must(path.join(root, 'bin/lago'), args, {cwd})

// One spec, `count` noarch subpackages with a random payload each.
const repo = path.join(work, 'upstream')
mkdirSync(repo)
const subpackages = Array.from({length: count}, (_, i) => `%package p${i}\nSummary: p${i}\n%description p${i}\np${i}\n%files p${i}\n/usr/share/bench/p${i}\n`).join('\n')
writeFileSync(
  path.join(work, 'bench.spec'),
  `%define _binary_payload w1.gzdio\nName: bench\nVersion: 1\nRelease: 1\nSummary: b\nLicense: GPL\nBuildArch: noarch\n%description\nb\n%install\nmkdir -p %{buildroot}/usr/share/bench\nfor i in $(seq 0 ${count - 1}); do head -c 65536 /dev/urandom > %{buildroot}/usr/share/bench/p$i; done\n${subpackages}`,
)
must('rpmbuild', ['-bb', '--quiet', '--define', `_topdir ${path.join(work, 'build')}`, '--define', `_rpmdir ${repo}`, path.join(work, 'bench.spec')])
must('createrepo_c', ['-q', repo])
const server = spawn('python3', ['-m', 'http.server', '18599', '--bind', '127.0.0.1', '--directory', repo], {stdio: 'ignore'})
await new Promise((resolve) => setTimeout(resolve, 1000))

try {
  const image = path.join(work, 'tiny.qcow2')
  must('qemu-img', ['create', '-q', '-f', 'qcow2', image, '16M'])
  writeFileSync(`${image}.metadata`, JSON.stringify({distro: 'bench'}))
  writeFileSync(
    path.join(work, 'repo.json'),
    JSON.stringify({name: 'bench', sources: {l: {type: 'file', args: {root: work}}}, templates: {t: {versions: {v1: {source: 'l', handle: 'tiny.qcow2', timestamp: 1}}}}}),
  )
  writeFileSync(path.join(work, 'LagoInitFile'), 'domains:\n  vm0:\n    memory: 128\n    nics: [{net: n}]\n    disks: [{type: template, template_name: t}]\nnets:\n  n: {}\n')
  writeFileSync(path.join(work, 'bench.repo'), '[upstream-bench]\nbaseurl=http://127.0.0.1:18599/\ngpgcheck=0\n')
  const timed = (label, args, cwd) => {
    const started = process.hrtime.bigint()
    const out = lago(args, cwd)
    const seconds = Number(process.hrtime.bigint() - started) / 1e9
    const summary = out.split('\n').find((l) => l.startsWith('upstream-bench:')) ?? ''
    console.log(`${label.padEnd(34)} ${seconds.toFixed(2)} s   ${summary}`)
    return seconds
  }
  for (const name of ['env', 'env2']) lago(['init', path.join(work, name), path.join(work, 'LagoInitFile'), '--template-repo-path', path.join(work, 'repo.json')], work)
  const args = ['ovirt', 'reposetup', '--reposync-yum-config', path.join(work, 'bench.repo')]
  console.log(`${count} packages, ${must('du', ['-sh', repo]).split('\t')[0]} repository`)
  const cold = timed('cold (empty cache)', args, path.join(work, 'env'))
  const warm = timed('rerun, nothing changed', args, path.join(work, 'env'))
  timed('second prefix, same cache', args, path.join(work, 'env2'))
  console.log(`rerun / cold: ${(warm / cold).toFixed(2)}`)
  for (const name of ['env', 'env2']) lago(['destroy', '--yes', '--prefix-path', path.join(work, name)], work)
} finally {
  server.kill()
  rmSync(work, {recursive: true, force: true})
}
