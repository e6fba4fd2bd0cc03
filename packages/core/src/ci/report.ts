import {mkdir, writeFile} from 'node:fs/promises'
import path from 'node:path'
import {parseEvents} from '../events/ndjson.js'
import type {EventObject, LagoEvent} from '../events/types.js'
import {readTextIfExists} from '../util/fs.js'
import {formatDuration} from '../util/progress.js'

/** Verbs that make up an environment's lifecycle (read-only ones such as status or shell stay out of reports). */
export const LIFECYCLE_VERBS = [
  'init',
  'start',
  'deploy',
  'stop',
  'shutdown',
  'snapshot',
  'revert',
  'collect',
  'ovirt reposetup',
  'ovirt start',
  'ovirt deploy',
  'ovirt engine-setup',
  'ovirt runtest',
  'ovirt collect',
  'ovirt stop',
]

/** Task objects that become test cases: a VM's start or deploy, a deploy script, a test scenario. */
const CASE_KINDS = new Set<EventObject['kind']>(['vm', 'script', 'scenario'])

export interface ReportCase {
  name: string
  /** lago.<verb>[.<vm>] */
  classname: string
  seconds: number
  status: 'passed' | 'failed'
  message?: string
}

export interface ReportSuite {
  verb: string
  run: string
  started: string
  seconds: number
  status: 'passed' | 'failed' | 'unfinished'
  exitCode?: number
  errorCode?: string
  message?: string
  /** Where the VMs' logs were collected for this run. */
  logs?: string
  cases: ReportCase[]
}

/** The lifecycle verbs recorded in an event stream, each as a suite of cases. */
export function buildReport(all: LagoEvent[]): ReportSuite[] {
  const runs = new Map<string, LagoEvent[]>()
  for (const event of all) {
    const list = runs.get(event.run) ?? []
    list.push(event)
    runs.set(event.run, list)
  }
  const suites: ReportSuite[] = []
  for (const [run, list] of runs) {
    const verb = list.find((e) => e.verb)?.verb
    if (!verb || !LIFECYCLE_VERBS.includes(verb)) continue
    suites.push(suiteOf(verb, run, list))
  }
  return suites.sort((a, b) => a.started.localeCompare(b.started))
}

function suiteOf(verb: string, run: string, list: LagoEvent[]): ReportSuite {
  const first = list[0]
  const end = list.find((e) => e.type === 'verb.finished' || e.type === 'verb.failed')
  const last = list.at(-1)!
  const suite: ReportSuite = {
    verb,
    run,
    started: first.time,
    seconds: end ? end.durationMs / 1000 : (Date.parse(last.time) - Date.parse(first.time)) / 1000,
    status: !end ? 'unfinished' : end.type === 'verb.failed' ? 'failed' : 'passed',
    cases: [],
  }
  if (end?.type === 'verb.failed') Object.assign(suite, {exitCode: end.exitCode, errorCode: end.error.code, message: end.error.message})
  if (end && (end.type === 'verb.failed' || end.type === 'verb.finished') && end.logs) suite.logs = end.logs
  const open = new Map<string, {name: string; vm?: string; started: string}>()
  for (const event of list) {
    if (!('task' in event) || !event.task || !event.object || !CASE_KINDS.has(event.object.kind)) continue
    const name = event.object.kind === 'script' && event.vm ? `${event.vm}: ${event.object.name}` : event.object.name
    if (event.type === 'task.started') open.set(event.task.id, {name, vm: event.vm, started: event.time})
    if (event.type === 'task.finished' || event.type === 'task.failed') {
      open.delete(event.task.id)
      suite.cases.push({
        name,
        classname: classname(verb, event.object.kind === 'vm' ? undefined : event.vm),
        seconds: event.durationMs / 1000,
        status: event.type === 'task.failed' ? 'failed' : 'passed',
        message: event.type === 'task.failed' ? event.error.message : undefined,
      })
    }
  }
  for (const unfinished of open.values())
    suite.cases.push({
      name: unfinished.name,
      classname: classname(verb, unfinished.vm),
      seconds: (Date.parse(last.time) - Date.parse(unfinished.started)) / 1000,
      status: 'failed',
      message: 'did not finish (the process ended first)',
    })
  // A verb with nothing per VM (init), or one that failed outside its cases, is a case of its own.
  if (suite.cases.length === 0 || (suite.status !== 'passed' && !suite.cases.some((c) => c.status === 'failed')))
    suite.cases.push({
      name: verb,
      classname: classname(verb),
      seconds: suite.seconds,
      status: suite.status === 'passed' ? 'passed' : 'failed',
      message: suite.message ?? (suite.status === 'unfinished' ? 'did not finish (the process ended first)' : undefined),
    })
  return suite
}

/** "1.2 s" under a minute (CI steps are short), then "3 min 4 s". */
function duration(value: number): string {
  return value < 60 ? `${value.toFixed(1)} s` : formatDuration(value)
}

function seconds(value: number): string {
  return value.toFixed(3)
}

function classname(verb: string, vm?: string): string {
  return ['lago', verb.replace(/\s+/g, '-'), ...(vm ? [vm] : [])].join('.')
}

/** JUnit XML (the Ant/Jenkins dialect every CI system reads): a testsuite per verb run. */
export async function junitXml(suites: ReportSuite[], name: string): Promise<string> {
  const {create} = await import('xmlbuilder2')
  const count = (s: ReportSuite[], status?: string) => s.reduce((n, suite) => n + suite.cases.filter((c) => !status || c.status === status).length, 0)
  const root = create({version: '1.0', encoding: 'UTF-8'}).ele('testsuites', {
    name,
    tests: count(suites),
    failures: count(suites, 'failed'),
    errors: 0,
    time: seconds(suites.reduce((n, s) => n + s.seconds, 0)),
  })
  for (const suite of suites) {
    const element = root.ele('testsuite', {
      name: suite.verb,
      tests: suite.cases.length,
      failures: suite.cases.filter((c) => c.status === 'failed').length,
      errors: 0,
      skipped: 0,
      time: seconds(suite.seconds),
      timestamp: suite.started.replace(/\.\d+Z$/, ''),
    })
    for (const c of suite.cases) {
      const testcase = element.ele('testcase', {name: c.name, classname: c.classname, time: seconds(c.seconds)})
      if (c.status === 'failed') testcase.ele('failure', {message: (c.message ?? 'failed').split('\n')[0], type: suite.errorCode ?? 'FAILED'}).txt(c.message ?? 'failed')
    }
    if (suite.logs) element.ele('system-out').txt(`Logs collected into ${suite.logs}`)
  }
  return root.end({prettyPrint: true})
}

/** A one-page Markdown summary: each verb run, its cases, and links (relative to `dir`) to the collected logs. */
export function markdownSummary(suites: ReportSuite[], options: {prefix: string; dir: string}): string {
  const link = (target: string) => `[${path.basename(target)}](${encodeURI(path.relative(options.dir, target) || '.')})`
  const mark = (status: string) => (status === 'passed' ? 'passed' : status === 'failed' ? '**FAILED**' : '**unfinished**')
  const cell = (text = '') => text.split('\n')[0].replace(/\|/g, '\\|').slice(0, 160)
  const failedCases = suites.flatMap((s) => s.cases.filter((c) => c.status === 'failed'))
  const lines = [
    `# Lago report: ${options.prefix}`,
    '',
    `${suites.length} verb run${suites.length === 1 ? '' : 's'}, ${suites.reduce((n, s) => n + s.cases.length, 0)} cases, ${failedCases.length} failed.`,
    '',
    '| verb | started | duration | result | logs |',
    '| --- | --- | --- | --- | --- |',
    ...suites.map(
      (s) =>
        `| ${s.verb} | ${s.started.slice(0, 19).replace('T', ' ')} | ${duration(s.seconds)} | ${mark(s.status)}${s.exitCode ? ` (exit ${s.exitCode}, ${s.errorCode})` : ''} | ${s.logs ? link(s.logs) : ''} |`,
    ),
  ]
  for (const suite of suites.filter((s) => s.status !== 'passed')) {
    lines.push('', `## ${suite.verb} ${mark(suite.status)} (${suite.started.slice(0, 19).replace('T', ' ')})`, '')
    if (suite.message) lines.push('```', suite.message, '```', '')
    lines.push('| case | duration | result | message |', '| --- | --- | --- | --- |')
    for (const c of suite.cases) lines.push(`| ${cell(c.name)} | ${duration(c.seconds)} | ${mark(c.status)} | ${cell(c.message)} |`)
    if (suite.logs) lines.push('', `Collected logs: ${link(suite.logs)} (per VM: artifacts, console.log, libvirt-domain.log, deploy.log; failure.json says what could not be read).`)
  }
  return `${lines.join('\n')}\n`
}

export interface ReportFiles {
  junit: string
  markdown: string
  suites: number
  cases: number
  failed: number
}

/** Read PREFIX/.lago/events.ndjson and write the JUnit XML and the Markdown summary. */
export async function writeReport(prefixRoot: string, eventsFile: string, options: {junit: string; markdown: string}): Promise<ReportFiles> {
  const suites = buildReport(parseEvents((await readTextIfExists(eventsFile)) ?? ''))
  for (const file of [options.junit, options.markdown]) await mkdir(path.dirname(file), {recursive: true})
  await writeFile(options.junit, await junitXml(suites, `lago ${prefixRoot}`))
  await writeFile(options.markdown, markdownSummary(suites, {prefix: prefixRoot, dir: path.dirname(options.markdown)}))
  const cases = suites.flatMap((s) => s.cases)
  return {junit: options.junit, markdown: options.markdown, suites: suites.length, cases: cases.length, failed: cases.filter((c) => c.status === 'failed').length}
}
