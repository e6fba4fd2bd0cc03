// How much slower is a guest under TCG (software emulation) than the same code natively?
// Boots the test guest (one VM), times a CPU-bound busybox shell loop in it, and times the
// same loop with the same static busybox binary on the host. KVM runs such code at close
// to native speed, so the ratio stands for "TCG vs KVM" (TCG_SLOWDOWN in core's KVM check).
// Run inside the test namespace, with the test image:
//   ip netns exec lago-test env LAGO_TEST_IMAGE=IMG LAGO_TEST_SUBNET_FIRST=192.168.240.0 \
//     node --import tsx bench/tcg-slowdown.ts [BUSYBOX_DEB]
import {execa} from 'execa'
import {mkdtemp, readdir} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import {ONE_VM_INIT_FILE, Sandbox} from '../test/lib/harness.js'

const LOOP = 'i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done'
const ROUNDS = 5

function seconds(timeOutput: string): number {
  const match = /real\s+(\d+)m\s*([\d.]+)s/.exec(timeOutput)
  if (!match) throw new Error(`no "real" time in: ${timeOutput}`)
  return Number(match[1]) * 60 + Number(match[2])
}

const debs = '/var/cache/lago-test/images/debs'
const deb =
  process.argv[2] ??
  path.join(
    debs,
    (await readdir(debs)).find((n) => n.startsWith('busybox-static_'))!,
  )
const unpacked = await mkdtemp(path.join(os.tmpdir(), 'lago-bb-'))
await execa('dpkg-deb', ['-x', deb, unpacked])
const busybox = path.join(unpacked, 'bin/busybox')

const sandbox = await Sandbox.create('tcg-bench')
const prefix = path.join(sandbox.dir, 'env')
try {
  const repo = await sandbox.templateRepo()
  const initFile = await sandbox.writeInitFile('init.yaml', ONE_VM_INIT_FILE)
  for (const args of [['init', prefix, initFile, '--template-repo-path', repo], ['start']]) {
    const result = await sandbox.lago(args, {cwd: args[0] === 'init' ? sandbox.dir : prefix})
    if (result.exitCode !== 0) throw new Error(String(result.all))
  }
  const guest: number[] = []
  const host: number[] = []
  for (let i = 0; i < ROUNDS; i++) {
    const inGuest = await sandbox.lago(['shell', 'vm0', '-c', `busybox time busybox sh -c '${LOOP}' 2>&1`], {cwd: prefix})
    guest.push(seconds(String(inGuest.all)))
    const onHost = await execa(busybox, ['time', busybox, 'sh', '-c', LOOP], {all: true})
    host.push(seconds(String(onHost.all)))
  }
  const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]
  // Rounds interleave guest and host, so load from elsewhere on the machine hits both alike.
  const ratios = guest.map((g, i) => g / host[i])
  console.log(JSON.stringify({loop: LOOP, guestSeconds: guest, hostSeconds: host, ratios: ratios.map((r) => Number(r.toFixed(1))), slowdown: Number(median(ratios).toFixed(1))}))
} finally {
  await sandbox.lago(['cleanup'], {cwd: prefix})
  await sandbox.remove()
  await execa('rm', ['-rf', unpacked])
}
