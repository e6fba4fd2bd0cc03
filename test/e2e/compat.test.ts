import assert from 'node:assert/strict'
import {execa} from 'execa'
import {cp, mkdir, readdir, readFile, stat, symlink, writeFile} from 'node:fs/promises'
import path from 'node:path'
import {LAGO_BIN, REPO_ROOT, Sandbox, libvirtObjectsOf} from '../lib/harness.js'

const COMPAT = path.join(REPO_ROOT, 'test/compat')
// KVM guests die on this kind of host (TESTING.md) and "auto" may still pick KVM: these suites test compatibility, not that.

/** A directory holding one small noarch RPM (lago-tools), as a yum repository. */
async function rpmDir(sandbox: Sandbox, name: string): Promise<string> {
  const dir = path.join(sandbox.dir, name)
  await mkdir(dir)
  await execa('rpmbuild', ['-bb', '--quiet', '--define', `_topdir ${sandbox.dir}/rpmbuild`, '--define', `_rpmdir ${dir}`, path.join(REPO_ROOT, 'examples/basic-suite/upstream/lago-tools.spec')])
  await execa('createrepo_c', ['-q', dir])
  return dir
}

/** A PATH where `lago` and `lagocli` are this checkout's, as installed ones would be. */
async function binDir(sandbox: Sandbox): Promise<string> {
  const bin = path.join(sandbox.dir, 'bin')
  await mkdir(bin, {recursive: true})
  for (const name of ['lago', 'lagocli']) await symlink(LAGO_BIN, path.join(bin, name)).catch(() => undefined)
  return `${bin}:${process.env.PATH}`
}

describe('compatibility: OST 2019 run_suite.sh, unchanged apart from paths', function () {
  const suite = path.join(COMPAT, 'ost-2019')
  let sandbox: Sandbox
  let env: Record<string, string>
  let run: {exitCode?: number; all?: unknown}
  let prefix: string
  let uuid: string

  before(async () => {
    sandbox = await Sandbox.create('compat-ost')
    const rpms = await rpmDir(sandbox, 'extra-rpms')
    // The store, leases and reposync cache come from a system lago.conf in the original's keys, not from the harness's variables.
    env = sandbox.env({PATH: await binDir(sandbox), TEMPLATE_REPO_PATH: await sandbox.templateRepo(), LAGO_TEMPLATE_STORE: '', LAGO_LEASE_DIR: ''})
    await mkdir(env.LAGO_SYSTEM_CONFIG_DIR, {recursive: true})
    await writeFile(
      path.join(env.LAGO_SYSTEM_CONFIG_DIR, 'lago.conf'),
      `[lago]\nlease_dir = ${sandbox.leases}\nreposync_dir = ${path.join(sandbox.dir, 'reposync')}\nssh_user = root\n\n[init]\ntemplate_store = ${sandbox.store}\n`,
    )
    prefix = path.join(sandbox.dir, 'deployment-ost-2019')
    run = await execa(path.join(suite, 'run_suite.sh'), ['-s', `file://${rpms}`, '-i', suite], {cwd: sandbox.dir, env, reject: false, all: true})
    uuid = (await readFile(path.join(prefix, '.lago/uuid'), 'utf8').catch(() => '')).trim()
  })

  after(async () => {
    await sandbox.lago(['destroy', '--yes', '--prefix-path', prefix])
    await sandbox.remove()
  })

  it('runs init, reposetup (--reposync-yum-config, --custom-source), start, status, deploy, runtest + collect per scenario, export', () => {
    const out = String(run.all)
    assert.equal(run.exitCode, 0, out.slice(-5000))
    assert.doesNotMatch(out, /command .* not found|Nonexistent flag|Unexpected argument/)
    assert.match(out, /Adding extra source: file:\/\//)
    assert.doesNotMatch(out, /^Warning: .*lago\.conf/m, 'every key of the original lago.conf is read')
    for (const scenario of ['001_initialize_engine.py', '002_status.py']) assert.match(out, new RegExp(`Running test scenario ${scenario.replace('.', '\\.')}`))
  })

  it("the original's lago.conf keys placed the store ([init] template_store) and the subnet lease ([lago] lease_dir)", async () => {
    assert.ok(
      (await readdir(sandbox.store)).some((name) => name.startsWith('lago-test:tiny:v1')),
      'the template is in the configured store',
    )
    assert.equal((await sandbox.leaseFiles()).length, 1, 'the subnet lease is in the configured lease_dir')
  })

  it("the internal repository also answers at the original's /default/<distro>/ (OST's add_local_repo.sh)", async () => {
    const access = await readFile(path.join(prefix, '.lago/logs/ovirt-repo-access.log'), 'utf8')
    assert.equal(access.match(/ GET \/default\/tiny-debian12\/repodata\/repomd\.xml 200$/gm)?.length, 2, access)
  })

  it("runtest --junitxml-file wrote each scenario's JUnit XML where OST reads it", async () => {
    const junit = await readFile(path.join(prefix, '001_initialize_engine.py.junit.xml'), 'utf8')
    assert.match(junit, /<testcase [^>]*name="test_deploy_ran_on_every_vm"/)
    assert.doesNotMatch(junit, /<failure|<error/)
    const status = await readFile(path.join(prefix, '002_status.py.junit.xml'), 'utf8')
    assert.match(status, /<testcase [^>]*name="test_json_status_has_the_original_keys"/)
    assert.doesNotMatch(status, /<failure|<error/)
  })

  it('collect from "$PREFIX/current" filled test_logs/<suite>/post-<scenario> and OST copied the lago logs', async () => {
    const post = path.join(sandbox.dir, 'test_logs/ost-2019/post-001_initialize_engine.py')
    assert.deepEqual((await readdir(post)).sort(), ['lago-ost-2019-engine', 'lago-ost-2019-host-0', 'lago_logs'])
    assert.equal(await readFile(path.join(post, 'lago-ost-2019-engine/_var_log_ovirt-engine/engine.log'), 'utf8'), 'engine log\n')
    assert.equal(await readFile(path.join(post, 'lago-ost-2019-host-0/_var_log_vdsm/vdsm.log'), 'utf8'), 'vdsm log\n')
    assert.ok((await stat(path.join(post, 'lago_logs/lago.log'))).isFile())
  })

  it('"lago --out-format yaml export --dst-dir exported_images --standalone" wrote flattened disks and a YAML init file', async () => {
    const exported = path.join(prefix, 'exported_images')
    const initFile = await readFile(path.join(exported, 'LagoInitFile'), 'utf8')
    assert.match(initFile, /^domains:$/m)
    const disks = (await readdir(exported)).filter((n) => n.endsWith('.qcow2'))
    assert.equal(disks.length, 2, (await readdir(exported)).join(' '))
    for (const disk of disks) {
      const info = JSON.parse(String((await execa('qemu-img', ['info', '--output=json', path.join(exported, disk)])).stdout))
      assert.equal(info['backing-filename'], undefined, `${disk} is standalone`)
    }
  })

  it('ansible_hosts -k groups, export --collect-only, "-f json export -d DIR -n VM", "-f json snapshot --list"', async () => {
    const lago = (args: string[]) => execa('lago', args, {cwd: prefix, env, reject: false, all: true})
    const inventory = await lago(['ansible_hosts', '-k', 'vm-type', '/disks/0/metadata/distro'])
    assert.equal(inventory.exitCode, 0, String(inventory.all))
    assert.match(String(inventory.stdout), /^\[vm-type=ovirt-engine\]\nlago-ost-2019-engine$/m)
    assert.match(String(inventory.stdout), /^\[\/disks\/0\/metadata\/distro=tiny-debian12\]\nlago-ost-2019-engine\nlago-ost-2019-host-0$/m)
    const disks = String((await lago(['export', '--collect-only'])).stdout).split('\n')
    assert.equal(disks.length, 2)
    for (const disk of disks) assert.ok(disk.startsWith(path.join(prefix, '.lago/')), disk)
    const json = await lago(['-f', 'json', 'export', '-d', 'exported-json', '-n', 'lago-ost-2019-host-0'])
    assert.equal(json.exitCode, 0, String(json.all))
    const initFile = JSON.parse(await readFile(path.join(prefix, 'exported-json/LagoInitFile'), 'utf8'))
    assert.deepEqual(Object.keys(initFile.domains), ['lago-ost-2019-host-0'])
    const snapshots = await lago(['-f', 'json', 'snapshot', '--list'])
    assert.deepEqual(JSON.parse(String(snapshots.stdout)), {'lago-ost-2019-engine': {}, 'lago-ost-2019-host-0': {}})
  })

  it('shell by the original rule: "shell VM ls /tmp", "shell VM -c echo hi", a local script, the remote exit code', async () => {
    const lago = (args: string[]) => execa('lago', args, {cwd: prefix, env, reject: false, all: true})
    assert.equal((await lago(['start'])).exitCode, 0)
    const ls = await lago(['shell', 'lago-ost-2019-engine', 'ls', '-d', '/tmp'])
    assert.equal(ls.exitCode, 0, String(ls.all))
    assert.equal(String(ls.stdout).trim(), '/tmp')
    const hi = await lago(['shell', 'engine', '-c', 'echo', 'hi'])
    assert.equal(String(hi.stdout).trim(), 'hi', String(hi.all))
    const script = path.join(sandbox.dir, 'script.sh')
    await writeFile(script, 'echo "from a script on $(hostname)"\n')
    const fromScript = await lago(['shell', 'host-0', script])
    assert.equal(String(fromScript.stdout).trim(), 'from a script on lago-ost-2019-host-0', String(fromScript.all))
    const failing = await lago(['--loglevel', 'error', 'shell', 'engine', '-c', 'exit 3'])
    assert.equal(failing.exitCode, 3)
    const yaml = await lago(['-f', 'yaml', 'status'])
    assert.match(String(yaml.stdout), /^Prefix:\n {2}Base directory: .*deployment-ost-2019\n/)
    const tree = await lago(['-f', 'default', 'status'])
    assert.match(String(tree.stdout), /^\[Prefix\]:\n {4}Base directory: .*deployment-ost-2019\n {4}\[Networks\]:\n/)
    assert.match(String(tree.stdout), /^ {8}\[lago-ost-2019-engine\]:\n {12}\[NICs\]:\n {16}\[eth0\]:\n/m)
  })

  it('"run_suite.sh -c" cleans up with "lago --workdir $PREFIX destroy --yes --all-prefixes"', async () => {
    assert.ok(uuid, 'the prefix had a uuid')
    const cleanup = await execa(path.join(suite, 'run_suite.sh'), ['-c', suite], {cwd: sandbox.dir, env, reject: false, all: true})
    assert.equal(cleanup.exitCode, 0, String(cleanup.all))
    assert.match(String(cleanup.all), /Destroyed .*deployment-ost-2019/)
    await assert.rejects(stat(prefix), /ENOENT/)
    assert.deepEqual(await libvirtObjectsOf(uuid.slice(0, 8)), [])
    assert.deepEqual(await sandbox.leaseFiles(), [])
  })
})

describe('compatibility: the 2016 lagocli getting-started flow', function () {
  let sandbox: Sandbox
  let work: string
  let run: {exitCode?: number; all?: unknown}
  const prefix = () => path.join(work, 'deployment-basic_suite_3.5')

  before(async () => {
    sandbox = await Sandbox.create('compat-lagocli')
    work = path.join(sandbox.dir, 'basic_suite_3.5')
    await cp(path.join(COMPAT, 'lagocli-2016'), work, {recursive: true})
    await cp(await sandbox.templateRepo(), path.join(work, 'template-repo.json'))
    const repoFile = path.join(work, 'reposync-config.repo')
    await writeFile(repoFile, (await readFile(repoFile, 'utf8')).replace('@UPSTREAM@', `file://${await rpmDir(sandbox, 'upstream')}/`))
    const env = sandbox.env({PATH: await binDir(sandbox), LAGO__OVIRT__REPOSYNC_DIR: path.join(sandbox.dir, 'reposync')})
    run = await execa(path.join(work, 'run.sh'), [], {cwd: work, env, reject: false, all: true})
  })

  after(async () => {
    await sandbox.lago(['destroy', '--yes', '--prefix-path', prefix()])
    await sandbox.remove()
  })

  it('init, ovirt reposetup/deploy/runtest/collect, shell, stop, start, status, cleanup all succeed', () => {
    const out = String(run.all)
    assert.equal(run.exitCode, 0, out.slice(-5000))
    assert.match(out, /metadata\.ovirt-role is deprecated: use domains\.engine\.vm-type: ovirt-engine/)
    assert.match(out, /^engine$/m, 'lagocli shell engine ran the commands from stdin')
  })

  it('the static address kept its last octet; collect put the role logs in test_logs/<vm>/', async () => {
    assert.match(String(run.all), /engine: running at \d+\.\d+\.\d+\.2$/m)
    const logs = path.join(prefix(), 'test_logs')
    assert.deepEqual((await readdir(logs)).sort(), ['engine', 'host0'])
    assert.deepEqual(await readdir(path.join(logs, 'engine/_var_log_ovirt-engine/setup')), ['ovirt-engine-setup-20151029122052-7g9q2k.log'])
    assert.deepEqual(await readdir(path.join(logs, 'host0/_var_log_vdsm')), ['vdsm.log'])
    await stat(path.join(prefix(), '001_initialize_engine.py.junit.xml'))
  })
})
