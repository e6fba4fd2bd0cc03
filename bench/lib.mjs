// What every benchmark shares: the checkout's CLI, an environment isolated in a scratch
// directory (own store, leases, config; the test subnet pool), and a spawn that must succeed.
import {spawnSync} from 'node:child_process'
import {chmodSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

export const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)))
export const cli = path.join(root, 'packages/cli/bin/run.js')

/** Environment for the CLI with its state under `work`; `extra` adds or overrides variables. */
export function benchEnv(work, extra = {}) {
  return {
    ...process.env,
    OCLIF_SKIP_NEW_VERSION_CHECK: 'true',
    LAGO_DATA_DIR: path.join(root, '.data'),
    LAGO_TEMPLATE_STORE: path.join(work, 'store'),
    LAGO_LEASE_DIR: path.join(work, 'subnets'),
    LAGO_SUBNET_FIRST: process.env.LAGO_TEST_SUBNET_FIRST ?? '192.168.200.0',
    LAGO_SUBNET_COUNT: process.env.LAGO_TEST_SUBNET_COUNT ?? '30',
    LAGO_SYSTEM_CONFIG_DIR: path.join(work, 'no-system-config'),
    XDG_CONFIG_HOME: path.join(work, 'config'),
    // The benchmarks' repositories publish no .hash files.
    LAGO__DOWNLOAD__ALLOW_UNVERIFIED: 'true',
    ...extra,
  }
}

/** A spawnSync bound to `env` that throws with the command's output when it fails; returns stdout (and stderr with `withStderr`). */
export function mustRunner(env) {
  return (file, args, options = {}) => {
    const result = spawnSync(file, args, {encoding: 'utf8', env, maxBuffer: 64 << 20, ...options})
    if (result.status !== 0) throw new Error(`${file} ${args.join(' ')} failed: ${result.stderr || ''}${result.stdout || ''}`)
    return options.withStderr ? `${result.stdout}${result.stderr}` : result.stdout
  }
}

export const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]

/** A template repository in `work` serving the tiny test guest as tiny:v1; returns its repo.json. */
export function tinyTemplateRepo(work, must) {
  const image = must('bash', [path.join(root, 'test/harness/build-guest-image.sh')])
    .trim()
    .split('\n')
    .pop()
  const repoDir = path.join(work, 'repo')
  mkdirSync(repoDir, {recursive: true})
  symlinkSync(image, path.join(repoDir, 'tiny.qcow2'))
  const file = path.join(work, 'repo.json')
  writeFileSync(file, JSON.stringify({name: 'bench', sources: {l: {type: 'file', args: {root: repoDir}}}, templates: {tiny: {versions: {v1: {source: 'l', handle: 'tiny.qcow2', timestamp: 1}}}}}))
  return file
}

/** A scratch directory under test/.tmp that qemu can enter, with the CLI environment and spawn bound to it. */
export function benchWork(name) {
  mkdirSync(path.join(root, 'test/.tmp'), {recursive: true}) // a fresh checkout has none until the tests run
  const work = mkdtempSync(path.join(root, `test/.tmp/bench-${name}-`))
  chmodSync(work, 0o755)
  const env = benchEnv(work)
  return {work, env, must: mustRunner(env)}
}
