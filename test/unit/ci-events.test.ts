import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {mkdtemp, readFile, rm} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import {XMLParser} from 'fast-xml-parser'
import {buildReport, EventBus, events, junitXml, markdownSummary, parseEvents, plainRunner, runStep, writeEventsTo, LagoError, type LagoEvent, type Task} from '@lago/core'
import {printPlainProgress} from '../../packages/cli/src/plain-progress.js'
import {eventValidator} from '../lib/events.js'
import {LAGO_BIN, REPO_ROOT} from '../lib/harness.js'

/** Every event the process's bus emits while `work` runs. */
async function recorded(work: () => Promise<unknown>): Promise<LagoEvent[]> {
  const seen: LagoEvent[] = []
  const stop = events.subscribe((e) => seen.push(e))
  try {
    await work().catch(() => undefined)
  } finally {
    stop()
  }
  return seen
}

const TREE: Task[] = [
  {title: 'Prepare', run: async (ctx) => ctx.report('ready')},
  {
    title: 'Start 2 VMs',
    concurrent: true,
    subtasks: [
      {
        title: 'vm0',
        vm: 'vm0',
        object: {kind: 'vm', name: 'vm0'},
        run: async (ctx) => {
          for (let done = 0; done <= 1000; done += 100) ctx.progress?.({done, total: 1000})
          await runStep(ctx, 'a.sh', {object: {kind: 'script', name: 'a.sh'}}, async () => undefined)
        },
      },
      {
        title: 'vm1',
        vm: 'vm1',
        object: {kind: 'vm', name: 'vm1'},
        run: async (ctx) => {
          await runStep(ctx, 'fail.sh', {object: {kind: 'script', name: 'fail.sh'}}, async () => {
            throw new LagoError('DEPLOY', 'vm1: script fail.sh failed with exit status 3')
          })
        },
      },
    ],
  },
]

describe('events (docs/events.md)', () => {
  let dir: string
  before(async () => (dir = await mkdtemp(path.join(os.tmpdir(), 'lago-events-'))))
  after(() => rm(dir, {recursive: true, force: true}))

  it('a task tree emits started/progress/finished/failed with tree ids, steps as child tasks, throttled transfers; every event validates against the schema', async () => {
    const validate = await eventValidator()
    const seen = await recorded(() => plainRunner()(TREE))
    for (const event of seen) validate(event)
    const lines = seen.map((e) => ('task' in e && e.task ? `${e.type} ${e.task.id} ${e.task.title}` : e.type))
    assert.deepEqual(lines.slice(0, 4), ['task.started 1 Prepare', 'task.progress 1 Prepare', 'task.finished 1 Prepare', 'task.started 2 Start 2 VMs'])
    assert.ok(lines.includes('task.failed 2.2.1 fail.sh'), lines.join('\n'))
    assert.ok(lines.includes('task.finished 2.1.1 a.sh'))
    assert.equal(lines.at(-1), 'task.failed 2 Start 2 VMs', 'the group fails with its child')
    const script = seen.find((e) => e.type === 'task.failed' && e.task.title === 'fail.sh')!
    assert.equal(script.vm, 'vm1', 'a step inherits its task’s VM')
    assert.deepEqual(script.object, {kind: 'script', name: 'fail.sh'})
    assert.deepEqual(script.type === 'task.failed' && script.error, {code: 'DEPLOY', message: 'vm1: script fail.sh failed with exit status 3'})
    const transfers = seen.filter((e) => e.type === 'download.progress')
    assert.ok(transfers.length >= 1 && transfers.length <= 2, `throttled: ${transfers.length}`)
    assert.equal(transfers.at(-1)!.type === 'download.progress' && transfers.at(-1)!.done, 1000, 'the last one always comes')
  })

  it('NDJSON: several processes append to one file without tearing a line', async () => {
    const file = path.join(dir, 'shared.ndjson')
    const script = `
      const {events, writeEventsTo} = await import('@lago/core')
      writeEventsTo(process.argv[1])
      for (let i = 0; i < 300; i++) events.warning('w'.repeat(2000) + i)
    `
    await Promise.all(
      [1, 2, 3, 4].map(
        () =>
          new Promise<void>((resolve, reject) => {
            const child = spawn(process.execPath, ['--input-type=module', '-e', script, file], {cwd: REPO_ROOT, stdio: 'inherit'})
            child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`exit ${code}`))))
          }),
      ),
    )
    const lines = (await readFile(file, 'utf8')).split('\n').filter(Boolean)
    assert.equal(lines.length, 1200)
    for (const line of lines) assert.equal((JSON.parse(line) as LagoEvent).type, 'warning')
    assert.equal(new Set(lines.map((l) => (JSON.parse(l) as LagoEvent).run)).size, 4)
  })

  it('a sink attached later gets the earlier events first, the prefix filled in', async () => {
    const bus = new EventBus()
    bus.setContext({verb: 'init'})
    bus.emit({type: 'verb.started', argv: ['init']})
    const file = path.join(dir, 'late.ndjson')
    const sink = writeEventsTo(file, {bus, fill: {prefix: '/p'}})
    bus.setContext({prefix: '/p'})
    bus.emit({type: 'verb.finished', durationMs: 5, exitCode: 0})
    sink.close()
    const written = parseEvents(await readFile(file, 'utf8'))
    assert.deepEqual(
      written.map((e) => [e.type, e.prefix, e.seq]),
      [
        ['verb.started', '/p', 1],
        ['verb.finished', '/p', 2],
      ],
    )
  })

  it('plain progress: timestamped lines without control sequences, and a heartbeat while a step is quiet', async () => {
    const bus = new EventBus()
    const out: string[] = []
    const stop = printPlainProgress(bus, {heartbeatSeconds: 0.3, transferEveryMs: 5000, write: (l) => out.push(l)})
    const task = bus.startTask('Start 1 VM')
    const vm = bus.startTask('vm0', {vm: 'vm0'}, task)
    bus.vmState('vm0', 'booted')
    await new Promise((resolve) => setTimeout(resolve, 1000))
    vm.finish()
    task.finish()
    stop()
    const text = out.join('')
    assert.ok(!text.includes('\u001b') && !text.includes('\r'), 'no escape sequences')
    for (const line of out) assert.match(line, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \S/)
    assert.match(text, /\[started\] Start 1 VM > vm0\n/)
    assert.match(text, /\[vm {5}\] vm0: booted\n/)
    assert.match(text, /heartbeat: \d+ s elapsed, still running: Start 1 VM > vm0\n/)
    assert.match(text, /\[done {3}\] Start 1 VM \(\d+\.\d s\)\n/)
  })

  it('report: a suite per lifecycle verb run, cases per VM, script and scenario, failures with messages; JUnit a parser accepts', async () => {
    const bus = new EventBus()
    const seen: LagoEvent[] = []
    bus.subscribe((e) => seen.push(e))
    bus.setContext({verb: 'deploy', prefix: '/p'})
    bus.emit({type: 'verb.started', argv: ['deploy']})
    const group = bus.startTask('Deploy 1 VM')
    const vm = bus.startTask('vm1: 1 script', {vm: 'vm1', object: {kind: 'vm', name: 'vm1'}}, group)
    await bus.step('fail.sh', {vm: 'vm1', object: {kind: 'script', name: 'fail.sh'}}, async () => Promise.reject(new LagoError('DEPLOY', 'exit status 3 <&>')), vm).catch(() => undefined)
    vm.fail(new LagoError('DEPLOY', 'Deploy failed on 1 of 1 VM'))
    group.fail(new LagoError('DEPLOY', 'Deploy failed on 1 of 1 VM'))
    bus.emit({type: 'verb.failed', durationMs: 1200, exitCode: 2, error: {code: 'DEPLOY', message: 'Deploy failed on 1 of 1 VM'}, logs: '/p/.lago/failures/deploy-1'})
    const status = {...seen[0], run: 'other', type: 'verb.started', verb: 'status'} as LagoEvent
    const suites = buildReport([...seen, status])
    assert.deepEqual(
      suites.map((s) => [s.verb, s.status, s.exitCode, s.cases.map((c) => `${c.classname} ${c.name} ${c.status}`)]),
      [['deploy', 'failed', 2, ['lago.deploy.vm1 vm1: fail.sh failed', 'lago.deploy vm1 failed']]],
    )
    const xml = new XMLParser({ignoreAttributes: false}).parse(await junitXml(suites, 'lago /p'))
    const testcases = [xml.testsuites.testsuite.testcase].flat()
    assert.equal(xml.testsuites['@_failures'], '2')
    assert.equal(testcases[0].failure['@_message'], 'exit status 3 <&>')
    const md = markdownSummary(suites, {prefix: '/p', dir: '/p/.lago/report'})
    assert.match(md, /\| deploy \| .* \| 1\.2 s \| \*\*FAILED\*\* \(exit 2, DEPLOY\) \| \[deploy-1\]\(\.\.\/failures\/deploy-1\) \|/)
  })

  it('the CLI refuses --events - with --json (both would write to standard output)', async () => {
    const child = spawn(LAGO_BIN, ['status', '--events', '-', '--json'], {cwd: dir, stdio: ['ignore', 'pipe', 'pipe']})
    let out = ''
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()))
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
    assert.equal(code, 2)
    assert.match(out, /--events - and --json would both write to standard output/)
  })

  it('the CLI: --events gets verb.started then verb.failed carrying the exit code and error code of the process', async () => {
    const file = path.join(dir, 'cli.ndjson')
    const validate = await eventValidator()
    const child = spawn(LAGO_BIN, ['status', '--events', file], {cwd: dir, stdio: 'ignore', env: {...process.env, LAGO_PREFIX_PATH: ''}})
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
    const written = parseEvents(await readFile(file, 'utf8'))
    for (const e of written) validate(e)
    assert.deepEqual(
      written.map((e) => e.type),
      ['verb.started', 'verb.failed'],
    )
    const last = written.at(-1)!
    assert.equal(code, 2)
    assert.ok(last.type === 'verb.failed' && last.exitCode === code && last.error.code === 'NO_PREFIX', JSON.stringify(last))
  })
})
