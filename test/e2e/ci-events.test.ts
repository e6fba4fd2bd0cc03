import assert from 'node:assert/strict'
import {mkdir, readdir, readFile, stat, writeFile} from 'node:fs/promises'
import path from 'node:path'
import {execa} from 'execa'
import {XMLParser} from 'fast-xml-parser'
import {parseEvents, type LagoEvent} from '@lago/core'
import {Sandbox} from '../lib/harness.js'
import {eventValidator} from '../lib/events.js'

// vm-ok boots and runs its deploy scripts (the second fails); vm-silent boots from a blank disk,
// so it runs but never answers SSH (a silent guest, not one that refuses).
const INIT_FILE = `
domains:
  vm-ok:
    memory: 256
    vcpu: 1
    nics: [{net: lago}]
    disks: [{type: template, template_name: tiny, name: root, dev: vda}]
    deploy-scripts: [scripts/ok.sh, scripts/fail.sh]
    artifacts: [/var/log/boot.log, /root/ci-marker]
  vm-silent:
    memory: 256
    vcpu: 1
    boot_time_sec: 15
    nics: [{net: lago}]
    deploy-scripts: [scripts/ok.sh]
    disks: [{type: file, path: blank.qcow2, format: qcow2, name: root, dev: vda}]
    artifacts: [/var/log/messages]
nets:
  lago:
    type: nat
`

interface Run {
  exitCode?: number
  stderr: string
  events: LagoEvent[]
}

describe('CI: event stream, heartbeat, collection on failure and lago report (a failing deploy script, a VM that never answers SSH)', function () {
  let sandbox: Sandbox
  let prefix: string
  let eventsFile: string
  let start: Run
  let deploy: Run
  let reportDir: string
  let report: {exitCode?: number; all?: unknown}
  const ciEnv = {LAGO__CI__HEARTBEAT_SECONDS: '2', LAGO__CI__COLLECT_TIMEOUT: '5', LAGO__CI__COLLECT_ON_FAILURE: 'true'}
  const lago = (args: string[], env: Record<string, string> = {}) => sandbox.lago(args, {cwd: prefix, env: {...ciEnv, ...env}})

  before(async () => {
    sandbox = await Sandbox.create('ci')
    prefix = path.join(sandbox.dir, 'env')
    eventsFile = path.join(sandbox.dir, 'ci-events.ndjson')
    await execa('qemu-img', ['create', '-q', '-f', 'qcow2', path.join(sandbox.dir, 'blank.qcow2'), '64M'])
    await mkdir(path.join(sandbox.dir, 'scripts'))
    await writeFile(path.join(sandbox.dir, 'scripts/ok.sh'), '#!/bin/sh\necho marker > /root/ci-marker\necho ok done\n')
    await writeFile(path.join(sandbox.dir, 'scripts/fail.sh'), '#!/bin/sh\necho "about to fail"\nexit 3\n')
    const init = await sandbox.lago(['init', prefix, await sandbox.writeInitFile('LagoInitFile', INIT_FILE), '--template-repo-path', await sandbox.templateRepo()])
    assert.equal(init.exitCode, 0, String(init.all))
    const first = await lago(['start', 'vm-ok'])
    assert.equal(first.exitCode, 0, String(first.all))
    // No terminal (execa pipes stdio): plain lines, heartbeat; --events to a file, then LAGO_EVENTS to the same file.
    const started = await lago(['start', '--events', eventsFile])
    const afterStart = parseEvents(await readFile(eventsFile, 'utf8'))
    start = {exitCode: started.exitCode, stderr: String(started.stderr), events: afterStart}
    const deployed = await lago(['deploy'], {LAGO_EVENTS: eventsFile})
    const all = parseEvents(await readFile(eventsFile, 'utf8'))
    deploy = {exitCode: deployed.exitCode, stderr: String(deployed.stderr), events: all.slice(afterStart.length)}
    reportDir = path.join(sandbox.dir, 'report')
    report = await lago(['report', '--output', reportDir])
  })

  after(async () => {
    await sandbox.lago(['destroy', '--yes', '--prefix-path', prefix])
    await sandbox.remove()
  })

  it('the failures keep their own message and exit code', () => {
    assert.equal(start.exitCode, 2, start.stderr)
    assert.match(start.stderr, /Error: VM vm-silent did not answer on SSH within 15 s/)
    assert.equal(deploy.exitCode, 2, deploy.stderr)
    assert.match(deploy.stderr, /Error: Deploy failed on 2 of 2 VMs:\n {2}vm-ok: script fail\.sh failed with exit status 3/)
    assert.match(deploy.stderr, /vm-silent: could not run its scripts: VM vm-silent is not running/)
  })

  it('every event validates against docs/events.schema.json; each run ends with verb.failed carrying the exit code and error code', async () => {
    const validate = await eventValidator()
    for (const event of [...start.events, ...deploy.events]) validate(event)
    for (const [run, code] of [
      [start, 'SSH'],
      [deploy, 'DEPLOY'],
    ] as const) {
      assert.equal(run.events[0].type, 'verb.started')
      const last = run.events.at(-1)!
      assert.ok(last.type === 'verb.failed' && last.exitCode === run.exitCode && last.error.code === code, JSON.stringify(last))
      assert.ok(run.events.every((e) => e.prefix === prefix && e.run === run.events[0].run))
      assert.deepEqual(
        run.events.map((e) => e.seq),
        run.events.map((_, i) => i + 1),
      )
    }
  })

  it('start: the silent VM goes starting → booted → unreachable, its task fails; vm-ok was already running', () => {
    const states = start.events.filter((e) => e.type === 'vm.state' && e.vm === 'vm-silent').map((e) => e.type === 'vm.state' && e.state)
    assert.deepEqual(states.slice(0, 3), ['starting', 'booted', 'unreachable'])
    const failed = start.events.find((e) => e.type === 'task.failed' && e.vm === 'vm-silent')
    assert.ok(failed && failed.type === 'task.failed' && /did not answer on SSH/.test(failed.error.message), JSON.stringify(failed))
    assert.ok(!start.events.some((e) => e.type === 'task.started' && e.vm === 'vm-ok' && e.object?.kind === 'vm'))
  })

  it('deploy: a task per VM and per script; the failing script fails with its exit status and output', () => {
    const scripts = deploy.events.filter((e) => (e.type === 'task.finished' || e.type === 'task.failed') && e.object?.kind === 'script').map((e) => `${e.vm} ${e.object!.name} ${e.type}`)
    assert.deepEqual(scripts, ['vm-ok ok.sh task.finished', 'vm-ok fail.sh task.failed'])
    const fail = deploy.events.find((e) => e.type === 'task.failed' && e.object?.name === 'fail.sh')!
    assert.match(fail.type === 'task.failed' ? fail.error.message : '', /vm-ok: script fail\.sh failed with exit status 3; last lines of output:\nabout to fail/)
  })

  it('without a terminal: timestamped plain lines, no control sequences, heartbeat lines during the long SSH wait', () => {
    assert.ok(!start.stderr.includes('\u001b'), 'no escape sequences')
    assert.match(start.stderr, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \[started\] Start 1 VM > vm-silent$/m)
    assert.match(start.stderr, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \[vm {5}\] vm-silent: booted$/m)
    assert.match(start.stderr, /^\S+Z heartbeat: \d+ s elapsed, still running: Start 1 VM > vm-silent$/m)
    assert.match(deploy.stderr, /^\S+Z \[failed \] Deploy 2 VMs > vm-ok: 2 scripts > fail\.sh \(\d+\.\d s\): vm-ok: script fail\.sh failed with exit status 3/m)
  })

  it('each failure collected every VM: artifacts, console log, libvirt domain log, failure.json; the unreachable VM is noted, not fatal', async () => {
    const failures = path.join(prefix, '.lago/failures')
    const dirs = (await readdir(failures)).sort()
    assert.deepEqual(
      dirs.map((d) => d.replace(/\d{8}-\d{6}$/, 'TIME')),
      ['deploy-TIME', 'start-TIME'],
    )
    for (const dir of dirs) {
      const base = path.join(failures, dir)
      assert.match(start.stderr + deploy.stderr, new RegExp(`Logs of 2 VMs collected into ${base.replace(/[.]/g, '\\.')}`))
      const ok = (await readdir(path.join(base, 'vm-ok'))).sort()
      for (const file of ['_var_log_boot.log', 'console.log', 'libvirt-domain.log']) assert.ok(ok.includes(file), `${dir}/vm-ok: ${ok.join(', ')}`)
      assert.match(await readFile(path.join(base, 'vm-ok/console.log'), 'utf8'), /\S/)
      assert.match(await readFile(path.join(base, 'vm-ok/libvirt-domain.log'), 'utf8'), /qemu/)
      const silent = (await readdir(path.join(base, 'vm-silent'))).sort()
      for (const file of ['console.log', 'libvirt-domain.log']) assert.ok(silent.includes(file), `${dir}/vm-silent: ${silent.join(', ')}`)
      const failure = JSON.parse(await readFile(path.join(base, 'failure.json'), 'utf8'))
      assert.equal(failure.error.exitCode, 2)
      const silentNotes = failure.vms.find((v: {vm: string}) => v.vm === 'vm-silent').notes.join('\n')
      assert.match(silentNotes, /artifacts: /, 'what could not be read is said')
    }
    const deployDir = path.join(failures, dirs[0])
    assert.equal((await readFile(path.join(deployDir, 'vm-ok/_root_ci-marker'), 'utf8')).trim(), 'marker')
    assert.match(await readFile(path.join(deployDir, 'vm-ok/deploy.log'), 'utf8'), /about to fail/)
  })

  it('lago report: JUnit XML with the lifecycle and the failed cases with their messages, and a Markdown summary linking the logs', async () => {
    assert.equal(report.exitCode, 0, String(report.all))
    const xml = new XMLParser({ignoreAttributes: false, isArray: (name) => name === 'testsuite' || name === 'testcase'}).parse(await readFile(path.join(reportDir, 'lago-junit.xml'), 'utf8'))
    const suites = xml.testsuites.testsuite as {'@_name': string; testcase: {'@_name': string; '@_classname': string; failure?: {'@_message': string}}[]}[]
    const cases = suites.map((s) => [s['@_name'], s.testcase.map((c) => `${c['@_name']}${c.failure ? ` FAILED: ${c.failure['@_message']}` : ''}`)])
    assert.deepEqual(
      cases.map(([verb]) => verb),
      ['init', 'start', 'start', 'deploy'],
      JSON.stringify(cases),
    )
    assert.deepEqual(cases[0][1], ['init'])
    assert.deepEqual(cases[1][1], ['vm-ok'])
    assert.match(String(cases[2][1]), /^vm-silent FAILED: VM vm-silent did not answer on SSH within 15 s/)
    const deployCases = cases[3][1] as string[]
    assert.ok(deployCases.includes('vm-ok: ok.sh'), deployCases.join('\n'))
    assert.ok(
      deployCases.some((c) => c.startsWith('vm-ok: fail.sh FAILED: vm-ok: script fail.sh failed with exit status 3')),
      deployCases.join('\n'),
    )
    assert.ok(
      deployCases.some((c) => c.startsWith('vm-silent FAILED: ')),
      deployCases.join('\n'),
    )
    const summary = await readFile(path.join(reportDir, 'lago-summary.md'), 'utf8')
    const links = [...summary.matchAll(/\]\(([^)]+)\)/g)].map((m) => path.resolve(reportDir, decodeURI(m[1])))
    assert.ok(links.length >= 2, summary)
    for (const link of links) assert.ok((await stat(link)).isDirectory(), link)
    assert.match(summary, /\| start \| .* \| \*\*FAILED\*\* \(exit 2, SSH\) \|/)
  })
})
