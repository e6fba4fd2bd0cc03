import {spawn} from 'node:child_process'
import {mkdir, stat, writeFile} from 'node:fs/promises'
import {createRequire} from 'node:module'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {events, LagoError, Workdir, type Prefix} from '@lago/core'
import {readJunit, type TestCaseResult} from './junit.js'

export interface RuntestOptions {
  /** Directory for the JUnit XML files (default: the prefix). */
  junitDir?: string
  /** The JUnit XML file of a single scenario (an existing directory or a path ending in / names the directory). */
  junitFile?: string
  /** Print the scenarios' own output (else it is only logged). */
  stream?: boolean
  signal?: AbortSignal
  /** Collect the artifacts into this directory (called when a scenario fails). */
  collect: (dir: string) => Promise<void>
}

export interface ScenarioResult {
  file: string
  runner: 'pytest' | 'mocha'
  exitCode: number
  junit: string
  tests: TestCaseResult[]
  failed: boolean
  /** Where the artifacts went when the scenario failed. */
  logs?: string
}

/** The environment the scenarios get (documented in docs/ovirt.md). */
export async function scenarioEnv(prefix: Prefix): Promise<Record<string, string>> {
  const status = path.join(prefix.paths.stateDir, 'ovirt', 'status.json')
  await mkdir(path.dirname(status), {recursive: true})
  await writeFile(status, JSON.stringify(await prefix.status(), null, 2))
  return {
    LAGO_PREFIX: prefix.paths.root,
    LAGO_PREFIX_PATH: prefix.paths.root,
    LAGO_SSH_KEY: prefix.paths.privateKey,
    LAGO_STATUS_FILE: status,
    // The original's test helpers found the prefix as the workdir's "current"; a standalone prefix has one too.
    LAGO_WORKDIR_PATH: (await Workdir.isWorkdir(path.dirname(prefix.paths.root))) ? path.dirname(prefix.paths.root) : prefix.paths.root,
  }
}

/**
 * Run test scenarios in order against the prefix: Python files with pytest, JavaScript and
 * TypeScript files with mocha (the SDK importable as @lago/core). Each writes JUnit XML;
 * the first failing scenario stops the run, and its artifacts are collected into
 * PREFIX/test_logs/<scenario>-<time>/.
 */
export async function runScenarios(prefix: Prefix, files: string[], options: RuntestOptions): Promise<ScenarioResult[]> {
  if (options.junitFile && files.length > 1) throw new LagoError('USAGE', '--junitxml-file names one file: give one scenario, or use --junit DIR.')
  for (const file of files) {
    if (!(await stat(file).catch(() => undefined))?.isFile()) throw new LagoError('USAGE', `Test scenario ${file}: no such file.`)
    runnerOf(file)
  }
  const env = await scenarioEnv(prefix)
  const results: ScenarioResult[] = []
  for (const file of files) {
    const junit = await junitPath(prefix, file, options)
    await mkdir(path.dirname(junit), {recursive: true})
    const runner = runnerOf(file)
    const command = runner === 'pytest' ? pytestCommand(file, junit) : mochaCommand(file, junit)
    // Each scenario is a task in the event stream (a case of "lago report").
    const task = events.startTask(path.basename(file), {object: {kind: 'scenario', name: path.basename(file)}})
    let result: ScenarioResult
    try {
      const exitCode = await spawnScenario(command, path.dirname(path.resolve(file)), env, options)
      const tests = await readJunit(junit)
      const failed = exitCode !== 0 || tests.some((t) => t.status === 'failed')
      result = {file, runner, exitCode, junit, tests, failed}
    } catch (error) {
      task.fail(error)
      throw error
    }
    if (result.failed) task.fail(new LagoError('TESTS', scenarioFailure(result)))
    else task.finish()
    results.push(result)
    if (result.failed) {
      result.logs = path.join(prefix.paths.root, 'test_logs', `${path.basename(file).replace(/\.[^.]+$/, '')}-${timestamp()}`)
      await options.collect(result.logs)
      break
    }
  }
  return results
}

/** The failed tests with their messages, or the runner's exit status when none is named. */
export function scenarioFailure(result: ScenarioResult): string {
  const failed = result.tests.filter((t) => t.status === 'failed').map((t) => `${t.name}: ${t.message ?? ''}`)
  return failed.length > 0 ? `${path.basename(result.file)}: ${failed.join('; ')}` : `${path.basename(result.file)}: ${result.runner} exited with status ${result.exitCode}`
}

function runnerOf(file: string): ScenarioResult['runner'] {
  if (file.endsWith('.py')) return 'pytest'
  if (/\.(c|m)?(j|t)s$/.test(file)) return 'mocha'
  throw new LagoError('USAGE', `Test scenario ${file}: unknown kind.`, {
    hint: 'Scenarios are Python files (.py, run with pytest) or JavaScript/TypeScript files (.js, .mjs, .ts, .mts, run with mocha).',
  })
}

async function junitPath(prefix: Prefix, file: string, options: RuntestOptions): Promise<string> {
  const name = `${path.basename(file)}.junit.xml`
  if (options.junitFile) {
    const isDir = options.junitFile.endsWith('/') || (await stat(options.junitFile).catch(() => undefined))?.isDirectory()
    return path.resolve(isDir ? path.join(options.junitFile, name) : options.junitFile)
  }
  return path.resolve(options.junitDir ?? prefix.paths.root, name)
}

function pytestCommand(file: string, junit: string): string[] {
  return ['python3', '-m', 'pytest', '-v', '-p', 'no:cacheprovider', `--junitxml=${junit}`, path.resolve(file)]
}

function mochaCommand(file: string, junit: string): string[] {
  const require = createRequire(import.meta.url)
  const register = fileURLToPath(new URL('./register-sdk.js', import.meta.url))
  // TypeScript scenarios go through tsx; plain JavaScript ones need no loader (nor esbuild's native binary).
  const typescript = /\.[cm]?ts$/.test(file) ? ['--import', import.meta.resolve('tsx')] : []
  return [
    process.execPath,
    ...typescript,
    '--import',
    register,
    require.resolve('mocha/bin/mocha.js'),
    '--reporter',
    fileURLToPath(new URL('./spec-junit-reporter.cjs', import.meta.url)),
    '--reporter-option',
    `mochaFile=${junit}`,
    '--timeout',
    '0',
    path.resolve(file),
  ]
}

function spawnScenario(command: string[], cwd: string, env: Record<string, string>, options: RuntestOptions): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(command[0], command.slice(1), {
      cwd,
      env: {...process.env, ...env},
      stdio: ['ignore', options.stream ? 'inherit' : 'ignore', options.stream ? 'inherit' : 'ignore'],
      signal: options.signal,
    })
    child.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT')
        reject(new LagoError('HOST', `${command[0]} is not installed: it runs the test scenarios.`, {hint: 'Install python3 and pytest (apt-get install python3-pytest, dnf install python3-pytest).'}))
      else reject(options.signal?.aborted ? (options.signal.reason as Error) : error)
    })
    child.once('exit', (code, signal) => resolve(code ?? 128 + (signal ? 15 : 0)))
  })
}

function timestamp(): string {
  return new Date().toISOString().replace(/[-:]/g, '').replace('T', '').slice(0, 14)
}
