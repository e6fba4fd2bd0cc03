import {mkdir, rename, stat} from 'node:fs/promises'
import path from 'node:path'
import {LagoError, errorMessage} from '../errors.js'
import {log} from '../log.js'
import {refuseOnRemoteHost} from '../prefix/hypervisor.js'
import type {Prefix} from '../prefix/prefix.js'
import type {VmState} from '../prefix/state.js'
import {plainRunner, type Task, type TaskRunner} from '../tasks.js'
import {pathExists} from '../util/fs.js'
import {settleTogether} from '../util/settle.js'
import {checkArtifactPath, placeArtifacts} from './layout.js'
import {vmArtifacts} from '../vm-types/registry.js'

export interface CollectOptions {
  /** The directory to fill: OUTPUT/<vm>/<path with "/" replaced by "_">. Rotated if it exists. */
  output: string
  /** Only these VMs (default: every VM). */
  vms?: string[]
  /** A missing artifact fails the collect (it is always reported). */
  strict?: boolean
  /** Paths collected besides each VM's own `artifacts` (a plugin's defaults, e.g. /var/log/ovirt-engine). */
  extraArtifacts?: (vm: VmState) => string[]
  /** Seconds to wait for a running VM's SSH (default: its boot timeout). */
  connectTimeoutSeconds?: number
  /** A running VM whose SSH does not answer is read from its disk with libguestfs (read-only) instead of failing. */
  diskWhenUnreachable?: boolean
}

export type CollectMethod = 'ssh' | 'libguestfs'

export interface VmCollectResult {
  vm: string
  /** OUTPUT/<vm> */
  dir: string
  method?: CollectMethod
  collected: {path: string; target: string}[]
  missing: string[]
  /** Non-fatal complaints of the guest's tar (unreadable files, files changing while read). */
  warnings: string[]
  /** Why nothing could be collected from this VM. */
  error?: string
}

export interface CollectResult {
  output: string
  /** Where an earlier directory at `output` was moved. */
  rotatedTo?: string
  vms: VmCollectResult[]
}

export interface CollectPlan {
  tasks: Task[]
  /** Filled in as the tasks run. */
  result: CollectResult
}

/**
 * Collect: every artifact path of each VM into OUTPUT/<vm>/, VMs in parallel. A running VM
 * sends them in one tar stream over SSH; a VM that is down is read from its disk with
 * libguestfs when installed. Missing paths are reported (fatal only with `strict`).
 */
export async function planCollect(prefix: Prefix, options: CollectOptions): Promise<CollectPlan> {
  prefix.requireInitialized()
  const output = path.resolve(options.output)
  const vms = options.vms && options.vms.length > 0 ? options.vms.map((n) => prefix.vm(n)) : prefix.state.vms
  const artifacts = new Map(vms.map((vm) => [vm.name, artifactsOf(vm, options.extraArtifacts)]))
  if (prefix.provider.remoteHost !== undefined) {
    // A VM that is down is read from its disk with libguestfs here; a remote host's disks are not here.
    const runtime = await prefix.provider.runtime()
    const down = vms.filter((vm) => artifacts.get(vm.name)!.length > 0 && runtime.vms.get(vm.libvirtName) !== 'running').map((vm) => vm.name)
    if (down.length > 0) {
      refuseOnRemoteHost(
        prefix.provider,
        `collect from ${down.join(', ')} while ${down.length === 1 ? 'it is' : 'they are'} down`,
        `Start ${down.length === 1 ? 'it' : 'them'} first ("lago start ${down.join(' ')}") and collect again: the artifacts of a running VM come over SSH through the hypervisor.`,
        'COLLECT',
      )
    }
  }
  const result: CollectResult = {
    output,
    vms: vms.map((vm) => ({vm: vm.name, dir: path.join(output, vm.name), collected: [], missing: [], warnings: []})),
  }
  const together = settleTogether(vms.length, () => collectError(result, options.strict ?? false))
  const tasks: Task[] = [
    {
      title: `Prepare ${output}`,
      run: async (ctx) => {
        result.rotatedTo = await rotate(output)
        if (result.rotatedTo) ctx.report(`the previous one is now ${result.rotatedTo}`)
        await mkdir(output, {recursive: true})
      },
    },
    {
      title: `Collect from ${vms.length} VM${vms.length === 1 ? '' : 's'}`,
      concurrent: true,
      subtasks: vms.map((vm, i) => ({
        title: `${vm.name}: ${artifacts.get(vm.name)!.join(', ') || 'no artifacts'}`,
        vm: vm.name,
        object: {kind: 'collect', name: vm.name},
        run: (ctx) =>
          together(i, async () => {
            const vmResult = result.vms[i]
            try {
              await collectVm(prefix, vm, artifacts.get(vm.name)!, vmResult, {...ctx, options})
            } catch (error) {
              vmResult.error = errorMessage(error)
              return false
            }
            if (vmResult.missing.length > 0) ctx.report(`missing: ${vmResult.missing.join(', ')}`)
            return vmResult.missing.length === 0 || !options.strict
          }),
      })),
    },
  ]
  return {tasks, result}
}

/** Plan and run a collect without any UI (the SDK's one-call form). */
export async function collect(prefix: Prefix, options: CollectOptions & {runner?: TaskRunner; signal?: AbortSignal}): Promise<CollectResult> {
  const plan = await planCollect(prefix, options)
  await (options.runner ?? plainRunner())(plan.tasks, options.signal)
  return plan.result
}

/** The VM's own artifacts (else its VM type's defaults, see vm-types), plus the caller's extra ones. */
function artifactsOf(vm: VmState, extra?: (vm: VmState) => string[]): string[] {
  const all = [...vmArtifacts(vm), ...(extra?.(vm) ?? [])].map((p) => checkArtifactPath(vm.name, p))
  return [...new Set(all)]
}

interface VmCollectContext {
  signal?: AbortSignal
  report: (text: string) => void
  options: CollectOptions
}

async function collectVm(prefix: Prefix, vm: VmState, paths: string[], result: VmCollectResult, ctx: VmCollectContext): Promise<void> {
  if (paths.length === 0) return
  const staging = path.join(result.dir, '.lago-staging')
  await mkdir(staging, {recursive: true})
  const running = (await prefix.provider.runtime()).vms.get(vm.libvirtName) === 'running'
  let found: string[]
  const client = running ? await connectForCollect(prefix, vm, result, ctx) : undefined
  if (client) {
    result.method = 'ssh'
    ctx.report('receiving one tar stream over SSH')
    const {tarOverSsh} = await import('./ssh-tar.js')
    try {
      const received = await tarOverSsh(client, paths, staging, ctx.signal)
      found = received.found
      result.warnings.push(...received.warnings)
    } finally {
      client.end()
    }
  } else {
    result.method = 'libguestfs'
    ctx.report(running ? 'SSH does not answer: reading its disk with libguestfs (read-only, while it runs)' : 'VM is down: reading its disk with libguestfs')
    const {copyOutWithGuestfs} = await import('./guestfs.js')
    found = await copyOutWithGuestfs(prefix, vm, paths, staging, ctx.signal)
  }
  result.missing = paths.filter((p) => !found.includes(p))
  for (const p of result.missing) log.warn(`collect: ${vm.name}: ${p} does not exist on the guest; skipped`)
  result.collected = await placeArtifacts(staging, result.dir, found)
  for (const warning of result.warnings) log.warn(`collect: ${vm.name}: ${warning}`)
}

/** SSH to a running VM; undefined when it does not answer and the caller prefers reading its disk. */
async function connectForCollect(prefix: Prefix, vm: VmState, result: VmCollectResult, ctx: VmCollectContext): Promise<import('ssh2').Client | undefined> {
  ctx.report('connecting')
  try {
    return await prefix.connectWhenReady(vm, ctx.signal, ctx.options.connectTimeoutSeconds)
  } catch (error) {
    // Reading the disk instead needs it on this host.
    if (!ctx.options.diskWhenUnreachable || ctx.signal?.aborted || prefix.provider.remoteHost !== undefined) throw error
    result.warnings.push(`SSH did not answer: ${errorMessage(error).split('\n')[0]}`)
    return undefined
  }
}

/** Move an existing output directory aside as DIR.<YYYY-MM-DD_HH:MM:SS> (as the original did). */
async function rotate(output: string): Promise<string | undefined> {
  if (!(await pathExists(output))) return undefined
  const mtime = (await stat(output)).mtime
  const stamp = mtime.toISOString().slice(0, 19).replace('T', '_')
  let target = `${output}.${stamp}`
  for (let n = 1; await pathExists(target); n++) target = `${output}.${stamp}.${n}`
  await rename(output, target)
  return target
}

function collectError(result: CollectResult, strict: boolean): LagoError | undefined {
  const failed = result.vms.filter((r) => r.error)
  const missing = strict ? result.vms.filter((r) => r.missing.length > 0) : []
  if (failed.length === 0 && missing.length === 0) return undefined
  const lines = [...failed.map((r) => `  ${r.vm}: ${r.error}`), ...missing.map((r) => `  ${r.vm}: missing ${r.missing.join(', ')}`)]
  return new LagoError('COLLECT', `Collect into ${result.output} failed:\n${lines.join('\n')}`, {
    hint: missing.length > 0 && failed.length === 0 ? 'Without --strict, missing paths are reported and skipped.' : undefined,
    detail: {result},
  })
}
