import {copyFile, mkdir, writeFile} from 'node:fs/promises'
import path from 'node:path'
import {planCollect, type VmCollectResult} from '../collect/collect.js'
import type {LagoConfig} from '../config/config.js'
import {errorMessage} from '../errors.js'
import {eventError} from '../events/bus.js'
import type {EventError} from '../events/types.js'
import type {Prefix} from '../prefix/prefix.js'
import type {VmState} from '../prefix/state.js'
import {qemuLogFile} from '../providers/libvirt/qemu-log.js'
import {plainRunner} from '../tasks.js'
import {isAbsent, pathExists} from '../util/fs.js'

export interface FailureCollectOptions {
  /** The verb that failed ("start", "ovirt deploy"): the directory is named after it. */
  verb: string
  /** What failed (absent when collecting after a success, --collect-always). */
  error?: unknown
  exitCode?: number
  /** Artifacts a plugin adds to every VM's own (e.g. /var/log/ovirt-engine). */
  extraArtifacts?: (vm: VmState) => string[]
  signal?: AbortSignal
}

export interface VmFailureLogs {
  vm: string
  /** OUTPUT/<vm>: artifacts, console.log, libvirt-domain.log, deploy.log */
  dir: string
  artifacts?: VmCollectResult
  /** What could not be collected, and why (an unreachable VM, a log libvirt keeps elsewhere). */
  notes: string[]
}

export interface FailureCollection {
  dir: string
  verb: string
  error?: EventError & {exitCode?: number}
  vms: VmFailureLogs[]
}

/** However a disk read or a guest behaves, a collection ends within this (what is left is noted). */
const COLLECTION_LIMIT_MS = 10 * 60 * 1000

/** The directory collections of this prefix go to: [ci] failures_dir, relative to the prefix, or PREFIX/.lago/failures. */
export function failuresDir(prefix: Prefix, config: LagoConfig = prefix.config): string {
  return config.ci.failures_dir ? path.resolve(prefix.paths.root, config.ci.failures_dir) : prefix.paths.failures
}

/**
 * After a verb failed (or succeeded, with --collect-always): every VM's artifacts, serial
 * console log, libvirt domain (qemu) log and deploy log into DIR/<verb>-<time>/<vm>/, plus
 * failure.json. Never throws for a VM that cannot be read: a stopped VM is read from its disk,
 * a running one that does not answer SSH within [ci] collect_timeout too (read-only), and
 * whatever still fails is noted in failure.json.
 */
export async function collectFailure(prefix: Prefix, options: FailureCollectOptions): Promise<FailureCollection> {
  const dir = await freshDir(path.join(failuresDir(prefix), `${options.verb.replace(/\s+/g, '-')}-${stamp()}`))
  const collection: FailureCollection = {
    dir,
    verb: options.verb,
    error: options.error === undefined ? undefined : {...eventError(options.error), exitCode: options.exitCode},
    vms: prefix.state.vms.map((vm) => ({vm: vm.name, dir: path.join(dir, vm.name), notes: []})),
  }
  try {
    const plan = await planCollect(prefix, {
      output: dir,
      extraArtifacts: options.extraArtifacts,
      connectTimeoutSeconds: prefix.config.ci.collect_timeout,
      diskWhenUnreachable: true,
    })
    const limit = AbortSignal.timeout(COLLECTION_LIMIT_MS)
    const signal = options.signal ? AbortSignal.any([options.signal, limit]) : limit
    await plainRunner()(plan.tasks, signal).catch(() => undefined) // each VM's outcome is in plan.result
    for (const [i, result] of plan.result.vms.entries()) {
      collection.vms[i].artifacts = result
      if (result.error) collection.vms[i].notes.push(`artifacts: ${result.error}`)
    }
  } catch (error) {
    for (const vm of collection.vms) vm.notes.push(`artifacts: ${errorMessage(error)}`)
  }
  await mkdir(dir, {recursive: true})
  await Promise.all(prefix.state.vms.map((vm, i) => copyLogs(prefix, vm, collection.vms[i])))
  await copyIfPresent(prefix.paths.logFile, path.join(dir, 'lago.log'))
  await writeFile(path.join(dir, 'failure.json'), `${JSON.stringify(collection, null, 2)}\n`)
  return collection
}

async function copyLogs(prefix: Prefix, vm: VmState, logs: VmFailureLogs): Promise<void> {
  await mkdir(logs.dir, {recursive: true})
  if (!(await copyIfPresent(prefix.paths.consoleLog(vm.name), path.join(logs.dir, 'console.log'))))
    logs.notes.push(`console.log: ${prefix.paths.consoleLog(vm.name)} does not exist (the VM never started)`)
  const domainLog = qemuLogFile(prefix.config.libvirt.uri, vm.libvirtName)
  if (!domainLog) logs.notes.push(`libvirt-domain.log: libvirt at ${prefix.config.libvirt.uri} keeps it on its own host`)
  else if (!(await copyIfPresent(domainLog, path.join(logs.dir, 'libvirt-domain.log')))) logs.notes.push(`libvirt-domain.log: ${domainLog} does not exist`)
  await copyIfPresent(prefix.paths.deployLog(vm.name), path.join(logs.dir, 'deploy.log'))
}

/** Copy `from` when it exists; false when it does not (any other failure leaves a TARGET.unreadable note, never throws). */
async function copyIfPresent(from: string, to: string): Promise<boolean> {
  try {
    await copyFile(from, to)
    return true
  } catch (error) {
    if (isAbsent(error)) return false
    await writeFile(`${to}.unreadable`, `${from}: ${errorMessage(error)}\n`).catch(() => undefined)
    return false
  }
}

/** A name not taken yet (collect makes the directory). */
async function freshDir(wanted: string): Promise<string> {
  let dir = wanted
  for (let n = 1; await pathExists(dir); n++) dir = `${wanted}.${n}`
  return dir
}

function stamp(): string {
  return new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15)
}
