import {createWriteStream} from 'node:fs'
import {mkdir, readFile} from 'node:fs/promises'
import path from 'node:path'
import {Writable} from 'node:stream'
import {LagoError, errorMessage} from '../errors.js'
import type {Prefix} from '../prefix/prefix.js'
import type {VmState} from '../prefix/state.js'
import {execCapture, execOn} from '../ssh/client.js'
import {shellCommand, shellQuote} from '../ssh/quote.js'
import {plainRunner, runStep, type Task, type TaskContext, type TaskRunner} from '../tasks.js'
import {settleTogether} from '../util/settle.js'
import {OutputTail} from './output-tail.js'

export interface DeployOptions {
  /** Only these VMs (default: every VM). */
  vms?: string[]
  /** Extra environment variables for the scripts (plugins pass e.g. a repository URL). */
  env?: Record<string, string>
}

export interface ScriptRun {
  /** The script's file name as given in the init file. */
  script: string
  exitCode: number
  seconds: number
}

export interface VmDeployResult {
  vm: string
  /** Everything the VM's scripts printed (stdout and stderr), with a header per script. */
  log: string
  scripts: ScriptRun[]
  /** The script that failed (the ones after it did not run), with its last lines of output. */
  failed?: ScriptRun & {tail: string}
  /** Why the VM could not run its scripts at all (not running, no SSH). */
  error?: string
}

export interface DeployPlan {
  /** One concurrent task per VM; they all run to the end, then fail together if any failed. */
  tasks: Task[]
  /** Filled in as the tasks run. */
  results: VmDeployResult[]
}

/** Where scripts are uploaded on the guest. */
export const GUEST_DEPLOY_DIR = '/tmp/lago-deploy'
const TAIL_LINES = 15
/** What execOn reports when the channel closed without an exit status. */
const NO_EXIT_STATUS = 255

/**
 * Deploy: each VM's `deploy-scripts`, uploaded and run in order over SSH, VMs in parallel.
 * A failing script stops that VM's chain; the other VMs finish theirs, then the tasks fail
 * with one error naming every failed VM, script, exit status and the last lines of output.
 */
export async function planDeploy(prefix: Prefix, options: DeployOptions = {}): Promise<DeployPlan> {
  prefix.requireInitialized()
  const vms = options.vms && options.vms.length > 0 ? options.vms.map((n) => prefix.vm(n)) : prefix.state.vms
  const env = checkEnv(options.env ?? {})
  const results: VmDeployResult[] = vms.map((vm) => ({vm: vm.name, log: prefix.paths.deployLog(vm.name), scripts: []}))
  const together = settleTogether(vms.length, () => deployError(prefix, results))
  const tasks: Task[] = [
    {
      title: `Deploy ${vms.length} VM${vms.length === 1 ? '' : 's'}`,
      concurrent: true,
      subtasks: vms.map((vm, i) => ({
        title: `${vm.name}: ${vm.deployScripts.length} script${vm.deployScripts.length === 1 ? '' : 's'}`,
        vm: vm.name,
        object: {kind: 'vm', name: vm.name},
        run: (ctx) => together(i, () => deployVm(prefix, vm, results[i], {env, signal: ctx.signal, report: ctx.report, step: ctx.step})),
      })),
    },
  ]
  return {tasks, results}
}

/** Plan and run a deploy without any UI (the SDK's one-call form); throws like the tasks do. */
export async function deploy(prefix: Prefix, options: DeployOptions & {runner?: TaskRunner; signal?: AbortSignal} = {}): Promise<VmDeployResult[]> {
  const plan = await planDeploy(prefix, options)
  await (options.runner ?? plainRunner())(plan.tasks, options.signal)
  return plan.results
}

interface VmDeployContext extends Pick<TaskContext, 'step'> {
  env: Record<string, string>
  signal?: AbortSignal
  report: (text: string) => void
}

/** Returns true when every script succeeded; records the outcome in `result`. */
async function deployVm(prefix: Prefix, vm: VmState, result: VmDeployResult, ctx: VmDeployContext): Promise<boolean> {
  if (vm.deployScripts.length === 0) return true
  await mkdir(path.dirname(result.log), {recursive: true})
  const log = createWriteStream(result.log, {flags: 'a'})
  try {
    log.write(`### lago deploy ${new Date().toISOString()}\n`)
    let client: import('ssh2').Client
    try {
      await prefix.requireRunning(vm)
      ctx.report('connecting')
      client = await prefix.connectWhenReady(vm, ctx.signal)
    } catch (error) {
      result.error = errorMessage(error)
      log.write(`### cannot reach ${vm.name}: ${result.error}\n`)
      return false
    }
    try {
      for (const [index, stored] of vm.deployScripts.entries()) {
        const script = scriptName(stored)
        ctx.report(`${index + 1}/${vm.deployScripts.length} ${script}`)
        const run = await scriptStep(ctx, vm, script, () => runScript(client, prefix.paths.resolve(stored), {vm, env: ctx.env, log, signal: ctx.signal, report: ctx.report}))
        const outcome = {script, exitCode: run.exitCode, seconds: run.seconds}
        log.write(`### ${script}: exit status ${run.exitCode} after ${run.seconds.toFixed(1)} s\n`)
        if (run.exitCode !== 0) {
          result.failed = {...outcome, tail: run.tail}
          return false
        }
        result.scripts.push(outcome)
      }
      return true
    } finally {
      client.end()
    }
  } finally {
    await new Promise((resolve) => log.end(resolve))
  }
}

interface ScriptContext {
  vm: VmState
  env: Record<string, string>
  log: NodeJS.WritableStream
  signal?: AbortSignal
  report: (text: string) => void
}

async function runScript(client: import('ssh2').Client, file: string, ctx: ScriptContext): Promise<{exitCode: number; seconds: number; tail: string}> {
  const remote = path.posix.join(GUEST_DEPLOY_DIR, path.basename(file))
  const upload = await execCapture(client, `mkdir -p ${shellQuote(GUEST_DEPLOY_DIR)} && cat > ${shellQuote(remote)} && chmod 0755 ${shellQuote(remote)}`, await readFile(file, 'utf8'))
  if (upload.exitCode !== 0) throw new LagoError('VM', `Cannot upload ${path.basename(file)} to ${ctx.vm.name}: ${upload.stderr.trim()}`)
  ctx.log.write(`### ${scriptName(file)} (${remote})\n`)
  const tail = new OutputTail(TAIL_LINES)
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      tail.push(chunk)
      const last = tail.lastLine()
      if (last) ctx.report(last)
      ctx.log.write(chunk, done)
    },
  })
  const started = Date.now()
  const variables = Object.entries({LAGO_VM_NAME: ctx.vm.name, ...ctx.env}).map(([k, v]) => `${k}=${shellQuote(v)}`)
  // Run from the upload directory through the login shell: a script without "#!" runs under sh.
  // The status also goes to a file: under load dropbear may close a channel without sending it.
  const statusFile = `${remote}.status`
  const command = `cd ${shellQuote(GUEST_DEPLOY_DIR)} && ${variables.join(' ')} ${shellCommand([remote])}; s=$?; echo $s > ${shellQuote(statusFile)}; exit $s`
  let exitCode = await execOn(client, command, {stdout: sink, stderr: sink, signal: ctx.signal})
  if (exitCode === NO_EXIT_STATUS) {
    const saved = await execCapture(client, `cat ${shellQuote(statusFile)}`)
    if (saved.exitCode === 0 && /^\d+$/.test(saved.stdout.trim())) exitCode = Number(saved.stdout.trim())
  }
  return {exitCode, seconds: (Date.now() - started) / 1000, tail: tail.text()}
}

/** One script as a step of its VM's task: failed (in the events) when its exit status is not 0; the run's result either way. */
async function scriptStep(ctx: VmDeployContext, vm: VmState, script: string, work: () => Promise<{exitCode: number; seconds: number; tail: string}>) {
  let outcome: {exitCode: number; seconds: number; tail: string} | undefined
  try {
    await runStep(ctx, script, {vm: vm.name, object: {kind: 'script', name: script}}, async () => {
      outcome = await work()
      if (outcome.exitCode !== 0) {
        const tail = outcome.tail ? `; last lines of output:\n${outcome.tail}` : ' (no output)'
        throw new LagoError('DEPLOY', `${vm.name}: script ${script} failed with exit status ${outcome.exitCode}${tail}`)
      }
    })
  } catch (error) {
    if (!outcome || outcome.exitCode === 0) throw error
  }
  return outcome!
}

/** The name the user gave the script (the prefix's copy carries an order number). */
export function scriptName(stored: string): string {
  return path.basename(stored).replace(/^\d{2}-/, '')
}

function checkEnv(env: Record<string, string>): Record<string, string> {
  for (const name of Object.keys(env)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new LagoError('USAGE', `"${name}" is not a valid environment variable name for deploy scripts.`)
  }
  return env
}

function deployError(prefix: Prefix, results: VmDeployResult[]): LagoError | undefined {
  const failed = results.filter((r) => r.failed || r.error)
  if (failed.length === 0) return undefined
  const lines = failed.map((r) => {
    if (r.error) return `  ${r.vm}: could not run its scripts: ${r.error}`
    const f = r.failed!
    const tail = f.tail
      ? `\n    last lines of output:\n${f.tail
          .split('\n')
          .map((l) => `      ${l}`)
          .join('\n')}`
      : '\n    (no output)'
    return `  ${r.vm}: script ${f.script} failed with exit status ${f.exitCode}${tail}`
  })
  const succeeded = results.filter((r) => !r.failed && !r.error).map((r) => r.vm)
  return new LagoError('DEPLOY', `Deploy failed on ${failed.length} of ${results.length} VM${results.length === 1 ? '' : 's'}:\n${lines.join('\n')}`, {
    hint: `Full output: ${failed.map((r) => r.log).join(', ')}${succeeded.length > 0 ? `\nFinished without errors: ${succeeded.join(', ')}.` : ''}`,
    detail: {results, prefix: prefix.paths.root},
  })
}
