#!/usr/bin/env node
// Runs one mocha suite (unit or e2e) and writes its counts to --summary FILE, so
// run-tests.mjs can run suites in different network namespaces and add them up.
import {register} from 'tsx/esm/api'
import Mocha from 'mocha'
import {writeFileSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

register()
const args = process.argv.slice(2)
const suite = args[args.indexOf('--suite') + 1]
const summary = args.includes('--summary') ? args[args.indexOf('--summary') + 1] : undefined
const grep = args.includes('--grep') ? args[args.indexOf('--grep') + 1] : undefined
const root = path.dirname(fileURLToPath(import.meta.url))
const mocha = new Mocha({timeout: suite === 'unit' ? 20_000 : 600_000, reporter: 'spec', grep})
const files = (await import('node:fs/promises')).readdir
const dir = path.join(root, suite)
for (const name of (await files(dir, {recursive: true})).filter((n) => n.endsWith('.test.ts')).sort()) mocha.addFile(path.join(dir, name))
await mocha.loadFilesAsync()
const runner = mocha.run((failures) => {
  const stats = runner.stats ?? {passes: 0, failures, pending: 0}
  if (summary) writeFileSync(summary, JSON.stringify({passed: stats.passes, failed: stats.failures, skipped: stats.pending}))
  process.exitCode = failures > 0 ? 1 : 0
})
// Slow hooks are where shared guests boot: shown beside the tests' own times, to see where CI's minutes go.
runner.on('hook end', (hook) => {
  if ((hook.duration ?? 0) >= 5000) console.log(`      (${hook.originalTitle ?? hook.title} of "${hook.parent?.title}": ${(hook.duration / 1000).toFixed(1)} s)`)
})
