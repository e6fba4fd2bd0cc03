import assert from 'node:assert/strict'
import {execa} from 'execa'
import {XMLParser, XMLValidator} from 'fast-xml-parser'
import {readdir, readFile, writeFile} from 'node:fs/promises'
import {createServer} from 'node:net'
import path from 'node:path'
import {parseEvents} from '@lago/core'
import {LAGO_BIN, REPO_ROOT, Sandbox} from '../lib/harness.js'

const SUITE = path.join(REPO_ROOT, 'examples/basic-suite')

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const {port} = server.address() as {port: number}
      server.close(() => resolve(port))
    })
  })
}

describe('examples/basic-suite end to end (lago ovirt: reposetup, start, deploy, runtest, collect)', function () {
  let sandbox: Sandbox
  let prefix: string
  let suiteRun: {exitCode?: number; all?: unknown}
  let status: any
  let upstreamPort: number
  const env = () => ({LAGO__OVIRT__REPOSYNC_DIR: path.join(sandbox.dir, 'reposync')})
  const lago = (args: string[]) => sandbox.lago(args, {cwd: prefix, env: env()})

  before(async () => {
    sandbox = await Sandbox.create('ovirt-suite')
    prefix = path.join(sandbox.dir, 'deployment-basic-suite')
    suiteRun = await execa(path.join(SUITE, 'run_suite.sh'), [prefix], {
      cwd: sandbox.dir,
      reject: false,
      all: true,
      env: sandbox.env({...env(), LAGO: LAGO_BIN, TEMPLATE_REPO: await sandbox.templateRepo(), UPSTREAM_PORT: String((upstreamPort = await freePort()))}),
    })
    status = JSON.parse(String((await lago(['status', '--json'])).stdout))
  })

  after(async () => {
    await sandbox.lago(['destroy', '--yes', '--prefix-path', prefix])
    await sandbox.remove()
  })

  it('run_suite.sh passes every stage and exits 0', () => {
    const out = String(suiteRun.all)
    assert.equal(suiteRun.exitCode, 0, out.slice(-4000))
    for (const stage of ['lago init', 'lago ovirt reposetup', 'lago ovirt start', 'lago ovirt deploy', 'lago ovirt runtest 004_basic_sanity.py']) assert.match(out, new RegExp(`^== ${stage}`, 'm'))
    assert.match(out, /Skipped yum sections \(not named "-<distro>" for tiny-debian12\): ovirt-master-el9/)
    assert.match(out, /lago-upstream-tiny-debian12: downloaded 2 of 2 packages/)
    assert.match(out, /Wait for the oVirt services/)
    assert.deepEqual(
      status.vms.map((vm: any) => [vm.name, vm.state]),
      [
        ['engine', 'running'],
        ['host0', 'running'],
      ],
    )
  })

  it("the locally built lago-hello took precedence over upstream's newer release", async () => {
    assert.match(String(suiteRun.all), /lago-hello: built from .*build\/lago-hello\.spec takes precedence over synced repo lago-upstream-tiny-debian12/)
    const rpms = (await readdir(path.join(prefix, 'internal_repo/tiny-debian12'))).filter((n) => n.endsWith('.rpm')).sort()
    assert.deepEqual(rpms, ['lago-hello-1.0-0.local.noarch.rpm', 'lago-tools-2.0-1.noarch.rpm'])
  })

  it('a second reposetup with nothing changed downloads nothing and says it reused the cache', async () => {
    const upstream = execa('python3', ['-m', 'http.server', String(upstreamPort), '--bind', '127.0.0.1', '--directory', `${prefix}.suite/upstream/repo`], {reject: false, all: true})
    try {
      await new Promise((resolve) => setTimeout(resolve, 1000))
      const again = await lago(['ovirt', 'reposetup', '--reposync-yum-config', `${prefix}.suite/reposync-config.repo`, '--build', path.join(SUITE, 'build/lago-hello.spec')])
      assert.equal(again.exitCode, 0, String(again.all))
      assert.match(String(again.stdout), /lago-upstream-tiny-debian12: reused the cache \(2 packages, nothing new\)/)
      assert.match(String(again.stdout), /every repository came from the cache/)
    } finally {
      upstream.kill()
    }
    const log = String((await upstream).all)
    assert.match(log, /GET \/repodata\/repomd\.xml/, 'the metadata was checked')
    assert.doesNotMatch(log, /GET \S+\.rpm/, 'no package was downloaded again')
  })

  it('each guest fetched the repo metadata and the built package from "serve" on the management gateway', async () => {
    const access = await readFile(path.join(prefix, '.lago/logs/ovirt-repo-access.log'), 'utf8')
    for (const vm of status.vms) {
      assert.match(access, new RegExp(`^\\S+ ${vm.ip.replace(/\./g, '\\.')} GET /tiny-debian12/repodata/repomd\\.xml 200$`, 'm'), `${vm.name} fetched repomd.xml:\n${access}`)
      assert.match(access, new RegExp(`^\\S+ ${vm.ip.replace(/\./g, '\\.')} GET /tiny-debian12/lago-hello-1\\.0-0\\.local\\.noarch\\.rpm 200$`, 'm'))
    }
    const repoFile = await lago(['shell', 'engine', '-c', 'cat /etc/yum.repos.d/lago-internal.repo'])
    assert.match(String(repoFile.stdout), new RegExp(`^baseurl=http://${status.nets[0].gateway.replace(/\./g, '\\.')}:8585/tiny-debian12/$`, 'm'))
  })

  it('JUnit XML of passing scenarios (pytest and mocha) names every test case', async () => {
    const py = await readFile(path.join(prefix, '001_initialize_engine.py.junit.xml'), 'utf8')
    for (const name of ['test_prefix_is_given', 'test_engine_points_at_the_internal_repo', 'test_engine_setup_left_its_log']) assert.match(py, new RegExp(`<testcase [^>]*name="${name}"`))
    assert.doesNotMatch(py, /<failure|<error/)
    const ts = await readFile(path.join(prefix, '003_packages.ts.junit.xml'), 'utf8')
    assert.match(ts, /tests="3" failures="0"/)
    assert.match(ts, /name="packages from the internal repository engine got the locally built lago-hello, not upstream&apos;s"/)
  })

  it('lago report: the lifecycle of the suite run as JUnit XML a parser accepts, and its Markdown summary', async () => {
    const dir = path.join(sandbox.dir, 'report')
    const run = await lago(['report', '--output', dir])
    assert.equal(run.exitCode, 0, String(run.all))
    const text = await readFile(path.join(dir, 'lago-junit.xml'), 'utf8')
    assert.equal(XMLValidator.validate(text), true)
    const xml = new XMLParser({ignoreAttributes: false, isArray: (name) => name === 'testsuite' || name === 'testcase'}).parse(text)
    const suites = xml.testsuites.testsuite as {'@_name': string; testcase: {'@_name': string}[]}[]
    const casesOf = (verb: string) => suites.filter((s) => s['@_name'] === verb).flatMap((s) => s.testcase.map((c) => c['@_name']))
    assert.deepEqual(casesOf('init'), ['init'])
    assert.deepEqual(casesOf('ovirt start').sort(), ['engine', 'host0'])
    assert.deepEqual(casesOf('ovirt deploy').sort(), ['engine', 'engine: add_local_repo.sh', 'engine: setup_engine.sh', 'host0', 'host0: add_local_repo.sh', 'host0: setup_host.sh'])
    assert.deepEqual(casesOf('ovirt runtest'), ['001_initialize_engine.py', '002_bootstrap.py', '003_packages.ts', '004_basic_sanity.py'])
    assert.equal(xml.testsuites['@_failures'], '0', text)
    assert.match(await readFile(path.join(dir, 'lago-summary.md'), 'utf8'), /^# Lago report: .*\n\n\d+ verb runs, \d+ cases, 0 failed\./)
  })

  it('collect after each scenario produced the engine and host log trees', async () => {
    const tree = path.join(prefix, 'test_logs/post-004_basic_sanity.py')
    assert.deepEqual((await readdir(tree)).sort(), ['engine', 'host0'])
    assert.deepEqual(await readdir(path.join(tree, 'engine')), ['_var_log_ovirt-engine'])
    assert.deepEqual((await readdir(path.join(tree, 'engine/_var_log_ovirt-engine'))).sort(), ['engine.log', 'setup'])
    const [setupLog] = await readdir(path.join(tree, 'engine/_var_log_ovirt-engine/setup'))
    assert.match(setupLog, /^ovirt-engine-setup-\d{14}\.log$/)
    assert.match(await readFile(path.join(tree, 'engine/_var_log_ovirt-engine/setup', setupLog), 'utf8'), /completed with built-locally lago-hello/)
    assert.deepEqual((await readdir(path.join(tree, 'host0/_var_log_vdsm'))).sort(), ['supervdsm.log', 'vdsm.log'])
  })

  it('a failing scenario: exit 1, the failure in its JUnit XML, artifacts in test_logs/<scenario>-<time>/', async () => {
    const scenario = path.join(sandbox.dir, '005_fails.py')
    await writeFile(scenario, 'import os\n\ndef test_passes():\n    assert os.environ["LAGO_PREFIX"]\n\ndef test_fails():\n    assert 1 + 1 == 3, "arithmetic is broken"\n')
    const junitDir = path.join(sandbox.dir, 'junit')
    const eventsFile = path.join(sandbox.dir, 'runtest-events.ndjson')
    const run = await sandbox.lago(['ovirt', 'runtest', scenario, '--junit', junitDir, '--events', eventsFile], {cwd: prefix, env: {...env(), LAGO__CI__COLLECT_ON_FAILURE: 'true'}})
    assert.equal(run.exitCode, 1, String(run.all))
    assert.match(String(run.stderr), /Some tests failed in .*005_fails\.py:\n {2}test_fails: AssertionError: arithmetic is broken/)
    const junit = await readFile(path.join(junitDir, '005_fails.py.junit.xml'), 'utf8')
    assert.match(junit, /<testcase [^>]*name="test_passes"[^>]*\/>/)
    assert.match(junit, /<testcase [^>]*name="test_fails"[^>]*><failure message="AssertionError: arithmetic is broken/)
    const logs = (await readdir(path.join(prefix, 'test_logs'))).filter((n) => n.startsWith('005_fails-'))
    assert.equal(logs.length, 1)
    assert.match(logs[0], /^005_fails-\d{14}$/)
    assert.deepEqual((await readdir(path.join(prefix, 'test_logs', logs[0], 'host0/_var_log_vdsm'))).sort(), ['supervdsm.log', 'vdsm.log'])
    // CI: the scenario is a failed task, the failure collection has each VM's logs, the last event carries exit 1 and TESTS.
    const events = parseEvents(await readFile(eventsFile, 'utf8'))
    const failedScenario = events.find((e) => e.type === 'task.failed' && e.object?.kind === 'scenario')
    assert.ok(failedScenario?.type === 'task.failed' && /005_fails\.py: test_fails: AssertionError: arithmetic is broken/.test(failedScenario.error.message), JSON.stringify(failedScenario))
    const last = events.at(-1)!
    assert.ok(last.type === 'verb.failed' && last.exitCode === 1 && last.error.code === 'TESTS' && last.logs, JSON.stringify(last))
    for (const vm of ['engine', 'host0']) assert.ok((await readdir(path.join(last.logs, vm))).includes('console.log'), vm)
    assert.deepEqual((await readdir(path.join(last.logs, 'host0/_var_log_vdsm'))).sort(), ['supervdsm.log', 'vdsm.log'])
  })

  it('engine-setup: a missing answer file, and no engine-setup on the engine VM, are clear errors', async () => {
    const missing = await lago(['ovirt', 'engine-setup', '--config', path.join(sandbox.dir, 'answers.conf')])
    assert.equal(missing.exitCode, 2)
    assert.match(String(missing.stderr), /Answer file .*answers\.conf: no such file/)
    const answers = await sandbox.writeInitFile('answers.conf', '[environment:default]\n')
    const notInstalled = await lago(['ovirt', 'engine-setup', '--config', answers])
    assert.equal(notInstalled.exitCode, 2, String(notInstalled.all))
    assert.match(String(notInstalled.stderr), /engine-setup is not installed on the engine VM engine/)
  })

  it('serve answers on the management gateway (custom --port) and stops on Ctrl-C', async () => {
    const port = await freePort()
    const serve = execa(LAGO_BIN, ['ovirt', 'serve', '--port', String(port)], {cwd: prefix, env: sandbox.env(env()), reject: false, all: true})
    const gateway = status.nets[0].gateway
    let answer: Response | undefined
    for (let i = 0; i < 100 && !answer; i++) {
      answer = await fetch(`http://${gateway}:${port}/tiny-debian12/repodata/repomd.xml`).catch(() => undefined)
      if (!answer) await new Promise((resolve) => setTimeout(resolve, 100))
    }
    assert.equal(answer?.status, 200)
    assert.match(await answer.text(), /<repomd/)
    serve.kill('SIGINT')
    const done = await serve
    assert.equal(done.exitCode, 0, String(done.all))
    assert.match(String(done.all), new RegExp(`Serving .*internal_repo on http://${gateway.replace(/\./g, '\\.')}:${port}/`))
  })

  it('ovirt stop shuts the VMs down; ovirt start boots them and waits for the role services', async () => {
    const stop = await lago(['ovirt', 'stop'])
    assert.equal(stop.exitCode, 0, String(stop.all))
    const stopped = JSON.parse(String((await lago(['status', '--json'])).stdout))
    assert.ok(
      stopped.vms.every((vm: any) => vm.state !== 'running'),
      JSON.stringify(stopped.vms.map((vm: any) => vm.state)),
    )
    const start = await lago(['ovirt', 'start'])
    assert.equal(start.exitCode, 0, String(start.all))
    assert.match(String(start.all), /engine: syslogd/)
    assert.match(String(start.all), /host0: syslogd/)
  })

  it('the suite starts from a golden environment of the deployed one: no reposetup, no deploy, every scenario passes', async () => {
    const freeze = await lago(['freeze', 'basic-suite', '--no-restart'])
    assert.equal(freeze.exitCode, 0, String(freeze.all))
    assert.match(String(freeze.all), /engine, host0 were shut down cleanly for the freeze and left down/)
    const copy = path.join(sandbox.dir, 'from-golden')
    const run = await execa(path.join(SUITE, 'run_suite.sh'), [copy], {
      cwd: sandbox.dir,
      reject: false,
      all: true,
      env: sandbox.env({...env(), LAGO: LAGO_BIN, GOLDEN: 'basic-suite:1'}),
    })
    const out = String(run.all)
    await sandbox.lago(['destroy', '--yes', '--prefix-path', copy])
    assert.equal(run.exitCode, 0, out.slice(-4000))
    assert.match(out, /^== lago init .*from-golden --from basic-suite:1$/m)
    assert.match(out, /^== lago ovirt runtest 004_basic_sanity\.py$/m)
    assert.doesNotMatch(out, /^== lago ovirt (reposetup|deploy)/m)
  })
})
