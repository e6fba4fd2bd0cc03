import {mkdir} from 'node:fs/promises'
import path from 'node:path'
import {LagoError} from '../errors.js'
import type {Prefix} from '../prefix/prefix.js'
import type {VmState} from '../prefix/state.js'
import {run, whichFirst} from '../util/exec.js'
import {controlCharacterIn} from '../util/safe-path.js'
import {stagingPath} from './layout.js'

/**
 * Read artifacts of a VM that is down straight from its boot disk, read-only, with one
 * libguestfs appliance for all paths (guestfish script; a "-" prefix lets a command fail
 * so a missing path does not stop the others). Returns the paths found.
 */
export async function copyOutWithGuestfs(prefix: Prefix, vm: VmState, paths: string[], staging: string, signal?: AbortSignal): Promise<string[]> {
  const guestfish = await whichFirst(['guestfish'])
  if (!guestfish) {
    throw new LagoError('COLLECT', `VM ${vm.name} is down and libguestfs is not installed, so its disk cannot be read.`, {
      hint: `Start the VM ("lago start ${vm.name}") and collect again, or install libguestfs (Debian/Ubuntu: apt-get install libguestfs-tools; Fedora/EL: dnf install guestfs-tools).`,
      detail: {vm: vm.name, state: 'down'},
    })
  }
  const disk = vm.disks.find((d) => d.format !== 'iso')
  if (!disk) throw new LagoError('COLLECT', `VM ${vm.name} has no disk to read artifacts from.`)
  const lines: string[] = []
  for (const p of paths) {
    const into = path.dirname(stagingPath(staging, p))
    await mkdir(into, {recursive: true})
    lines.push(`exists ${quote(p)}`, `-copy-out ${quote(p)} ${quote(into)}`)
  }
  // libguestfs boots an appliance: it must run under TCG wherever Lago's own guests do.
  const tcg = (await prefix.provider.domainTypeFor(vm)) === 'qemu'
  const result = await run(guestfish, ['--ro', '--format=' + disk.format, '-a', prefix.paths.resolve(disk.path), '-i'], {
    input: `${lines.join('\n')}\n`,
    signal,
    reject: false,
    // The direct backend needs no libvirt connection (and works inside the test namespace).
    env: {LIBGUESTFS_BACKEND: process.env.LIBGUESTFS_BACKEND ?? 'direct', ...(tcg ? {LIBGUESTFS_BACKEND_SETTINGS: 'force_tcg'} : {})},
  })
  const answers = result.stdout.split('\n').filter((l) => l === 'true' || l === 'false')
  if (answers.length !== paths.length) {
    throw new LagoError('COLLECT', `libguestfs could not read the disk of ${vm.name} (exit status ${result.exitCode}): ${result.stderr.trim().split('\n').slice(-5).join('\n')}`)
  }
  return paths.filter((_, i) => answers[i] === 'true')
}

/**
 * A guestfish script argument: double-quoted, with its backslash escapes. A line break would
 * end the command and start another (guestfish runs "!cmd" lines on the host): refused.
 */
function quote(text: string): string {
  const bad = controlCharacterIn(text)
  if (bad) throw new LagoError('COLLECT', `Artifact path ${JSON.stringify(text)} contains the control character "${bad}"; it is not passed to guestfish.`, {detail: {path: text}})
  return `"${text.replace(/[\\"]/g, (c) => `\\${c}`)}"`
}
