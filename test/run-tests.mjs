#!/usr/bin/env node
// `npm test`: the linter (and the formatter's check) over the whole tree, unit tests in this namespace; then, once the host is set up (apt packages), the
// packaging tests (RPMs with rpmbuild, the release tree with createrepo_c) here too; then
// end-to-end tests inside the test network namespace (guest image built first). Ends with one line
// "N passed, N failed, N skipped" for CI.
import {spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)))
const only = ['lint', 'unit', 'packaging', 'e2e'].find((suite) => process.argv.includes(`--${suite}`))
const wanted = (suite) => only === undefined || only === suite
const grepIndex = process.argv.indexOf('--grep')
const grep = grepIndex > 0 ? ['--grep', process.argv[grepIndex + 1]] : []
const netns = process.env.LAGO_TEST_NETNS ?? 'lago-test'
const tmp = mkdtempSync(path.join(os.tmpdir(), 'lago-tests-'))
const totals = {passed: 0, failed: 0, skipped: 0}
const started = Date.now()
// Host setup and the VM tests need root; a user with sudo gets it for those steps only.
const asRoot = process.getuid?.() === 0 ? [] : ['sudo', '--preserve-env', 'env', `PATH=${process.env.PATH}`]

function runSuite(suite, prefixCommand = [], env = {}) {
  const summary = path.join(tmp, `${suite}.json`)
  const command = [...prefixCommand, process.execPath, path.join(root, 'test/mocha-run.mjs'), '--suite', suite, '--summary', summary, ...grep]
  const result = spawnSync(command[0], command.slice(1), {stdio: 'inherit', env: {...process.env, ...env}})
  try {
    const counts = JSON.parse(readFileSync(summary, 'utf8'))
    for (const key of Object.keys(totals)) totals[key] += counts[key]
  } catch {
    console.error(`${suite} tests did not complete (exit ${result.status ?? result.signal})`)
    totals.failed += 1
  }
}

function step(what, file, args) {
  const command = [...asRoot, file, ...args]
  const result = spawnSync(command[0], command.slice(1), {stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8'})
  if (result.status !== 0) {
    console.error(`${what} failed (exit ${result.status ?? result.signal})`)
    return undefined
  }
  return result.stdout.trim()
}

/** A tool over the whole tree, counted as one test: passed when it exits 0. */
function check(what, args) {
  const result = spawnSync(process.execPath, args, {cwd: root, stdio: 'inherit'})
  if (result.status === 0) totals.passed += 1
  else {
    console.error(`${what} failed (exit ${result.status ?? result.signal})`)
    totals.failed += 1
  }
}

if (wanted('lint')) {
  check('eslint (npm run lint)', [path.join(root, 'node_modules/eslint/bin/eslint.js'), '.'])
  check('prettier --check (npm run format fixes it)', [path.join(root, 'node_modules/prettier/bin/prettier.cjs'), '--check', '--log-level', 'warn', '.'])
}
if (wanted('unit')) runSuite('unit')
if (wanted('packaging') || wanted('e2e')) {
  const setupStart = Date.now()
  const ready = step('host setup', 'bash', [path.join(root, 'test/harness/host-setup.sh')]) !== undefined
  const setupSeconds = (Date.now() - setupStart) / 1000
  if (wanted('packaging')) {
    if (ready) runSuite('packaging')
    else totals.failed += 1
  }
  if (wanted('e2e')) {
    const imageStart = Date.now()
    const image = ready ? step('guest image build', 'bash', [path.join(root, 'test/harness/build-guest-image.sh')]) : undefined
    console.error(`e2e preparation took ${(setupSeconds + (Date.now() - imageStart) / 1000).toFixed(1)} s`)
    if (image) runSuite('e2e', [...asRoot, 'ip', 'netns', 'exec', netns], {LAGO_TEST_IMAGE: image.split('\n').pop()})
    else totals.failed += 1
  }
}
rmSync(tmp, {recursive: true, force: true})
console.log(`tests took ${((Date.now() - started) / 1000).toFixed(0)} s`)
console.log(`${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`)
process.exitCode = totals.failed > 0 ? 1 : 0
