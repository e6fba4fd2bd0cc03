import assert from 'node:assert/strict'
import {chmod, mkdir, readdir} from 'node:fs/promises'
import path from 'node:path'
import {ONE_VM_INIT_FILE, Sandbox} from '../lib/harness.js'

/** Every bad input: exit 2, one clear paragraph naming the thing and the fix, nothing half-made. */
describe('bad input is refused cleanly', function () {
  let sandbox: Sandbox
  let repo: string

  before(async () => {
    sandbox = await Sandbox.create('errors')
    repo = await sandbox.templateRepo()
  })

  after(async () => sandbox.remove())

  async function assertNothingMade(prefix: string) {
    await assert.rejects(readdir(prefix), /ENOENT/, `${prefix} must not exist`)
    assert.deepEqual(await sandbox.leaseFiles(), [])
  }

  async function initFails(initText: string | undefined, expected: RegExp, extraArgs: string[] = [], env: Record<string, string> = {}, prefixName = 'env') {
    const prefix = path.join(sandbox.dir, prefixName)
    const initFile = initText === undefined ? path.join(sandbox.dir, 'missing.yaml') : await sandbox.writeInitFile(`init-${Math.random()}.yaml`, initText)
    const result = await sandbox.lago(['init', prefix, initFile, '--template-repo-path', repo, ...extraArgs], {env})
    assert.equal(result.exitCode, 2, String(result.all))
    assert.match(String(result.stderr), expected)
    assert.doesNotMatch(String(result.stderr), /\n\s+at /, 'no stack trace for a user error')
    await assertNothingMade(prefix)
    return String(result.stderr)
  }

  it('a missing init file', async () => {
    await initFails(undefined, /Error: Init file .*missing\.yaml does not exist\.\nGive the path of a YAML or JSON init file/)
  })

  it('an invalid init file names the file and the field', async () => {
    await initFails(ONE_VM_INIT_FILE.replace('- net: lago', '- net: lan'), /init-.*\.yaml is not a valid init file:\n  - domains\.vm0\.nics\[0\]\.net: "lan" is not a net of this file \(nets: lago\)/)
  })

  it('an unknown template lists what the repository offers', async () => {
    await initFails(
      ONE_VM_INIT_FILE.replace('template_name: tiny', 'template_name: fedora'),
      /domains\.vm0\.disks\[0\] \(root\): Template "fedora" is not in repository "lago-test" .*\nTemplates it offers: tiny\./,
    )
  })

  it('an unknown template version lists the versions', async () => {
    await initFails(
      ONE_VM_INIT_FILE.replace('template_name: tiny', 'template_name: tiny:v9'),
      /domains\.vm0\.disks\[0\] \(root\): Template "tiny" has no version "v9" .*\nVersions it offers \(newest first\): v1\./,
    )
  })

  it('a prefix that already exists is left untouched', async () => {
    const prefix = path.join(sandbox.dir, 'existing')
    await mkdir(prefix)
    const initFile = await sandbox.writeInitFile('ok.yaml', ONE_VM_INIT_FILE)
    const result = await sandbox.lago(['init', prefix, initFile, '--template-repo-path', repo])
    assert.equal(result.exitCode, 2)
    assert.match(String(result.stderr), /Prefix .*existing already exists\.\nPick a new path/)
    assert.deepEqual(await readdir(prefix), [])
  })

  it('a template store that cannot be written', async () => {
    const store = path.join(sandbox.dir, 'readonly-store')
    await mkdir(store)
    await chmod(store, 0o500)
    // root ignores mode bits; a store below a regular file fails for root too
    const blocked = path.join(sandbox.dir, 'ok.yaml', 'store')
    const message = await initFails(ONE_VM_INIT_FILE, /Cannot write to the template store .*ok\.yaml\/store \(ENOTDIR\)\.\nPass --template-store DIR/, ['--template-store', blocked])
    assert.ok(message)
  })

  it('a prefix path the qemu user cannot enter names the directory and the chmod', async () => {
    const locked = path.join(sandbox.dir, 'locked')
    await mkdir(locked, {mode: 0o700})
    await chmod(locked, 0o700)
    await initFails(
      ONE_VM_INIT_FILE,
      /Error: qemu access: qemu \(running as user "nobody"\) cannot enter .*\/locked, so it could not open disks under .*\/locked\/env \(prefix\)\nFix: chmod o\+x .*\/locked /,
      [],
      {LAGO__LIBVIRT__QEMU_USER: 'nobody'},
      'locked/env',
    )
  })

  it('commands outside any prefix say where they looked', async () => {
    for (const verb of ['start', 'status', 'stop', 'cleanup']) {
      const result = await sandbox.lago([verb], {cwd: '/'})
      assert.equal(result.exitCode, 2, `${verb}: ${result.all}`)
      assert.match(String(result.stderr), /Not inside a Lago prefix: neither \/ nor any directory above it is one\.\ncd into the directory you passed to "lago init", or pass --prefix-path PREFIX\./)
    }
    const shell = await sandbox.lago(['shell', 'vm0', '-c', 'true'], {cwd: '/'})
    assert.equal(shell.exitCode, 2)
    const json = await sandbox.lago(['status', '--json'], {cwd: '/'})
    assert.equal(json.exitCode, 2)
    assert.equal(JSON.parse(String(json.stdout)).error.code, 'NO_PREFIX')
  })

  describe('with an initialized prefix', () => {
    let prefix: string

    before(async () => {
      prefix = path.join(sandbox.dir, 'ready')
      const initFile = await sandbox.writeInitFile('ready.yaml', ONE_VM_INIT_FILE)
      const result = await sandbox.lago(['init', prefix, initFile, '--template-repo-path', repo])
      assert.equal(result.exitCode, 0, String(result.all))
    })

    after(async () => {
      await sandbox.lago(['cleanup'], {cwd: prefix})
    })

    it('libvirtd not reachable', async () => {
      const result = await sandbox.lago(['start'], {cwd: prefix, env: {LAGO__LIBVIRT__URI: 'qemu:///system?socket=/nonexistent/libvirt-sock'}})
      assert.equal(result.exitCode, 2, String(result.all))
      assert.match(String(result.stderr), /Error: libvirt: cannot reach libvirt at qemu:\/\/\/system\?socket=\/nonexistent\/libvirt-sock: .*\nFix: .*libvirtd/)
    })

    it('a KVM domain type forced where KVM does not work stops before libvirt, while auto falls back to TCG', async () => {
      const forced = await sandbox.lago(['start'], {cwd: prefix, env: {LAGO__LIBVIRT__DOMAIN_TYPE: 'kvm'}})
      if (forced.exitCode === 0) this.skip() // a host where KVM works
      assert.equal(forced.exitCode, 2, String(forced.all))
      assert.match(String(forced.stderr), /Error: KVM: domain_type is kvm but this host cannot run KVM guests: .*\nFix: LAGO__LIBVIRT__DOMAIN_TYPE=auto .* to fall back to TCG/)
      const status = JSON.parse(String((await sandbox.lago(['status', '--json'], {cwd: prefix})).stdout))
      assert.deepEqual(
        status.vms.map((v: {state: string}) => v.state),
        ['down'],
        'nothing was started',
      )
      assert.equal(status.nets[0].active, false, 'nothing was started')
    })

    it('an invalid domain_type setting names the setting and the choices', async () => {
      const result = await sandbox.lago(['status'], {cwd: prefix, env: {LAGO__LIBVIRT__DOMAIN_TYPE: 'xen'}})
      assert.equal(result.exitCode, 2)
      assert.match(String(result.stderr), /Invalid value "xen" for libvirt\.domain_type in the environment: expected one of auto, kvm, qemu\./)
    })

    it('shell on a VM that is not running says how to start it', async () => {
      const result = await sandbox.lago(['shell', 'vm0', '-c', 'true'], {cwd: prefix})
      assert.equal(result.exitCode, 2)
      assert.match(String(result.stderr), /VM vm0 is not running \(state: down\)\.\nStart it with "lago start vm0"\./)
    })

    it('shell on an unknown VM lists the VMs', async () => {
      const result = await sandbox.lago(['shell', 'nope', '-c', 'true'], {cwd: prefix})
      assert.equal(result.exitCode, 2)
      assert.match(String(result.stderr), /No VM named "nope" in prefix .*\nVMs: vm0\./)
    })
  })
})
