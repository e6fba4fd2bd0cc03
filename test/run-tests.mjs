#!/usr/bin/env node
// `npm test`: unit tests in this namespace, then end-to-end tests inside the test network
// namespace (host set up and guest image built first). Ends with one line
// "N passed, N failed, N skipped" for CI.
import {spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)))
const only = process.argv.includes('--unit') ? 'unit' : process.argv.includes('--e2e') ? 'e2e' : undefined
const grepIndex = process.argv.indexOf('--grep')
const grep = grepIndex > 0 ? ['--grep', process.argv[grepIndex + 1]] : []
const netns = process.env.LAGO_TEST_NETNS ?? 'lago-test'
const tmp = mkdtempSync(path.join(os.tmpdir(), 'lago-tests-'))
const totals = {passed: 0, failed: 0, skipped: 0}
const started = Date.now()

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
  const result = spawnSync(file, args, {stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8'})
  if (result.status !== 0) {
    console.error(`${what} failed (exit ${result.status ?? result.signal})`)
    return undefined
  }
  return result.stdout.trim()
}

if (only !== 'e2e') runSuite('unit')
if (only !== 'unit') {
  const setupStart = Date.now()
  const ready = step('host setup', 'bash', [path.join(root, 'test/harness/host-setup.sh')]) !== undefined
  const image = ready ? step('guest image build', 'bash', [path.join(root, 'test/harness/build-guest-image.sh')]) : undefined
  console.error(`e2e preparation took ${((Date.now() - setupStart) / 1000).toFixed(1)} s`)
  if (image) runSuite('e2e', ['ip', 'netns', 'exec', netns], {LAGO_TEST_IMAGE: image.split('\n').pop()})
  else totals.failed += 1
}
rmSync(tmp, {recursive: true, force: true})
console.log(`tests took ${((Date.now() - started) / 1000).toFixed(0)} s`)
console.log(`${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`)
process.exitCode = totals.failed > 0 ? 1 : 0
