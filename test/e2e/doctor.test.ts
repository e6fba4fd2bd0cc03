import assert from 'node:assert/strict'
import {execa} from 'execa'
import {access, chmod, mkdir, readdir, readFile, stat, symlink} from 'node:fs/promises'
import path from 'node:path'
import {ONE_VM_INIT_FILE, Sandbox} from '../lib/harness.js'

const BAD_URI = 'qemu:///system?socket=/nonexistent/libvirt-sock'

/** The doctor's line for one check ("✘ title: message") and the fix line under it. */
function doctorLine(output: string, title: string): {line: string; fix?: string} {
  const lines = output.split('\n')
  const index = lines.findIndex((l) => /^[✔✘!] /.test(l) && l.slice(2).startsWith(`${title}: `))
  assert.ok(index >= 0, `no "${title}" line in:\n${output}`)
  const next = lines[index + 1]
  return {line: lines[index], fix: next?.startsWith('  Fix: ') ? next.slice(2) : undefined}
}

/** A preflight error must be the doctor's line (without the mark) and its fix, word for word. */
function assertSameAsDoctor(stderr: string, doctor: {line: string; fix?: string}) {
  assert.equal(stderr.trim(), `Error: ${doctor.line.slice(2)}\n${doctor.fix}`)
}

describe('lago doctor', function () {
  let sandbox: Sandbox
  let repo: string

  before(async () => {
    sandbox = await Sandbox.create('doctor')
    repo = await sandbox.templateRepo()
  })

  after(async () => sandbox.remove())

  it('checks this host: every check on one line, KVM not usable and the TCG fallback, exit 0', async () => {
    const started = Date.now()
    const result = await sandbox.lago(['doctor'])
    const seconds = (Date.now() - started) / 1000
    assert.equal(result.exitCode, 0, String(result.all))
    const out = String(result.stdout)
    for (const title of ['CPU virtualization', 'KVM', 'nested virtualization', 'tools', 'libvirt', 'groups', 'Lago directories', 'qemu access', 'SELinux', 'free space']) {
      doctorLine(out, title)
    }
    assert.match(doctorLine(out, 'libvirt').line, /^✔ libvirt: reachable at qemu:\/\/\/system$/)
    assert.equal(doctorLine(out, 'tools').line, '✔ tools: qemu-img, virsh')
    const kvm = doctorLine(out, 'KVM')
    if (
      await access('/dev/kvm').then(
        () => false,
        () => true,
      )
    ) {
      // This host: no /dev/kvm (a VM without nested virtualization).
      assert.equal(kvm.line, '! KVM: not usable (/dev/kvm is missing): TCG will be used, about 15× slower')
      assert.ok(kvm.fix, 'a fix line under the KVM warning')
    } else {
      assert.match(kvm.line, /^(✔ KVM: \/dev\/kvm present and a KVM guest runs|! KVM: not usable \(.*\): TCG will be used, about \d+× slower)$/)
    }
    // The oVirt plugin's checks, registered through its oclif init hook.
    for (const title of ['oVirt tools', 'oVirt repo port', 'oVirt free space']) doctorLine(out, title)
    assert.match(out, /\nNothing blocks running environments; \d+ warnings? \(!\) \(\d+\.\d s\)$/)
    console.log(`      doctor took ${seconds.toFixed(2)} s (process included)`)
  })

  it('--json: one entry per check with status and fix, ok true', async () => {
    const result = await sandbox.lago(['doctor', '--json'])
    assert.equal(result.exitCode, 0, String(result.all))
    const report = JSON.parse(String(result.stdout))
    assert.equal(report.ok, true)
    const ids = report.checks.map((c: {id: string}) => c.id)
    assert.deepEqual(ids.slice(0, 11), ['cpu-virtualization', 'kvm', 'nested-virtualization', 'tools', 'libvirt', 'mode', 'groups', 'lago-dirs', 'qemu-access', 'selinux', 'disk-space'])
    assert.ok(ids.includes('ovirt-tools') && ids.includes('ovirt-port'), ids.join(','))
    for (const check of report.checks) {
      assert.ok(['ok', 'warn', 'fail'].includes(check.status), JSON.stringify(check))
      if (check.status !== 'ok') assert.ok(check.fix, `${check.id} has a fix`)
    }
  })

  it('an unreadable prefix parent directory: ✘ with the chmod, and init fails with the same line', async () => {
    const locked = path.join(sandbox.dir, 'locked')
    await mkdir(locked)
    await chmod(locked, 0o700)
    const prefix = path.join(locked, 'env')
    const env = {LAGO__LIBVIRT__QEMU_USER: 'nobody'}
    const doctor = await sandbox.lago(['doctor', '--prefix-path', prefix], {env})
    assert.equal(doctor.exitCode, 2, String(doctor.all))
    const found = doctorLine(String(doctor.stdout), 'qemu access')
    assert.equal(found.line, `✘ qemu access: qemu (running as user "nobody") cannot enter ${locked}, so it could not open disks under ${prefix} (prefix)`)
    assert.match(found.fix!, new RegExp(`^Fix: chmod o\\+x ${locked} \\(`))
    assert.match(String(doctor.stdout), /\n1 problem \(✘\) blocks running environments; /)

    const initFile = await sandbox.writeInitFile('locked.yaml', ONE_VM_INIT_FILE)
    const init = await sandbox.lago(['init', prefix, initFile, '--template-repo-path', repo], {env})
    assert.equal(init.exitCode, 2, String(init.all))
    assertSameAsDoctor(String(init.stderr), found)
    await assert.rejects(readdir(prefix), /ENOENT/)

    const json = JSON.parse(String((await sandbox.lago(['doctor', '--prefix-path', prefix, '--json'], {env})).stdout))
    const check = json.checks.find((c: {id: string}) => c.id === 'qemu-access')
    assert.equal(json.ok, false)
    assert.equal(check.status, 'fail')
    assert.equal(check.detail.blocked[0].at, locked)
  })

  it('a missing tool on PATH: ✘ with the install command, and init fails with the same line', async () => {
    const bin = path.join(sandbox.dir, 'bin-without-qemu-img')
    await mkdir(bin)
    for (const dir of ['/usr/local/bin', '/usr/bin', '/usr/sbin']) {
      for (const name of await readdir(dir).catch(() => [] as string[])) {
        if (name === 'qemu-img') continue
        await symlink(path.join(dir, name), path.join(bin, name)).catch(() => undefined)
      }
    }
    const env = {PATH: bin}
    const doctor = await sandbox.lago(['doctor'], {env})
    assert.equal(doctor.exitCode, 2, String(doctor.all))
    const found = doctorLine(String(doctor.stdout), 'tools')
    assert.equal(found.line, '✘ tools: missing qemu-img')
    assert.equal(found.fix, 'Fix: apt-get install -y qemu-utils') // Debian here

    const prefix = path.join(sandbox.dir, 'no-qemu-img')
    const initFile = await sandbox.writeInitFile('no-qemu-img.yaml', ONE_VM_INIT_FILE)
    const init = await sandbox.lago(['init', prefix, initFile, '--template-repo-path', repo], {env})
    assert.equal(init.exitCode, 2, String(init.all))
    assertSameAsDoctor(String(init.stderr), found)
  })

  it('an unreachable libvirt URI: ✘ with how to start libvirtd, and start fails with the same line', async () => {
    const env = {LAGO__LIBVIRT__URI: BAD_URI}
    const doctor = await sandbox.lago(['doctor'], {env})
    assert.equal(doctor.exitCode, 2, String(doctor.all))
    const found = doctorLine(String(doctor.stdout), 'libvirt')
    assert.match(found.line, /^✘ libvirt: cannot reach libvirt at qemu:\/\/\/system\?socket=\/nonexistent\/libvirt-sock: .*No such file or directory$/)
    const systemd = await access('/run/systemd/system').then(
      () => true,
      () => false,
    )
    assert.equal(found.fix, systemd ? 'Fix: sudo systemctl enable --now libvirtd' : 'Fix: sudo sh -c "virtlogd -d && libvirtd -d" (systemd is not running here, so start the daemons by hand)')

    const prefix = path.join(sandbox.dir, 'unreachable')
    const initFile = await sandbox.writeInitFile('unreachable.yaml', ONE_VM_INIT_FILE)
    const init = await sandbox.lago(['init', prefix, initFile, '--template-repo-path', repo])
    assert.equal(init.exitCode, 0, String(init.all))
    try {
      const start = await sandbox.lago(['start'], {cwd: prefix, env})
      assert.equal(start.exitCode, 2, String(start.all))
      assertSameAsDoctor(String(start.stderr), found)
    } finally {
      await sandbox.lago(['cleanup'], {cwd: prefix})
    }
  })

  it('a full store (a 16 MiB filesystem) and a configured threshold: ✘ free space with the fix', async function () {
    const small = path.join(sandbox.dir, 'small-fs')
    await mkdir(small)
    const mounted = await execa('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'lago-e2e-small', small], {reject: false})
    if (mounted.exitCode !== 0) this.skip() // needs root
    try {
      const doctor = await sandbox.lago(['doctor'], {env: {LAGO_TEMPLATE_STORE: path.join(small, 'store')}})
      assert.equal(doctor.exitCode, 2, String(doctor.all))
      const found = doctorLine(String(doctor.stdout), 'free space')
      assert.match(found.line, new RegExp(`^✘ free space: 1\\d\\.\\d MiB free under the template store ${small}/store \\(needs 10\\.0 GiB\\)$`))
      assert.match(
        found.fix!,
        new RegExp(
          `^Fix: free [\\d.]+ GiB on the filesystem of ${small}/store \\("du -xsh ${small}/store/\\* \\| sort -h" shows what uses it\\), or move it to a bigger one \\(template_store under \\[lago\\]`,
        ),
      )
      // The oVirt plugin wants 36 GB there too, as a warning only.
      assert.match(doctorLine(String(doctor.stdout), 'oVirt free space').line, /^! oVirt free space: .* \(needs 33\.5 GiB\)$/)
    } finally {
      await execa('umount', [small])
    }
    const threshold = await sandbox.lago(['doctor', '--prefix-path', path.join(sandbox.dir, 'big-env')], {env: {LAGO_PREFIX_MIN_FREE: '900T'}})
    assert.equal(threshold.exitCode, 2, String(threshold.all))
    assert.match(doctorLine(String(threshold.stdout), 'free space').line, /free under the prefix .*big-env \(needs 900\.0 TiB\)$/)
  })
})

describe('lago setup', function () {
  let sandbox: Sandbox
  let root: string
  let env: Record<string, string>
  const group = `lagoe2e${process.pid}`
  const user = `lagoe2eu${process.pid}`

  before(async function () {
    if (process.getuid?.() !== 0) this.skip()
    sandbox = await Sandbox.create('setup')
    root = path.join(sandbox.dir, 'scratch-root')
    env = {
      LAGO_GROUP: group,
      LAGO_TEMPLATE_STORE: path.join(root, 'var/lib/lago/store'),
      LAGO_TEMPLATE_REPOS: path.join(root, 'var/lib/lago/repos'),
      LAGO_LEASE_DIR: path.join(root, 'var/lib/lago/subnets'),
      LAGO_POLKIT_RULES_DIR: path.join(root, 'etc/polkit-1/rules.d'),
    }
    await execa('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', user])
  })

  after(async function () {
    if (!sandbox) return
    await execa('userdel', [user], {reject: false})
    await execa('groupdel', [group], {reject: false})
    await sandbox.remove()
  })

  const dirs = () => [env.LAGO_TEMPLATE_STORE, env.LAGO_TEMPLATE_REPOS, env.LAGO_LEASE_DIR]

  it('--dry-run prints every command and changes nothing', async () => {
    const result = await sandbox.lago(['setup', '--dry-run', '--user', user], {env})
    assert.equal(result.exitCode, 0, String(result.all))
    const out = String(result.stdout)
    assert.match(out, new RegExp(`→ group ${group}: would run\\n    groupadd --system ${group}\\n`))
    for (const dir of dirs()) assert.ok(out.includes(`    install -d -o root -g ${group} -m 3775 ${dir}\n`), out)
    assert.ok(out.includes(`→ polkit rule ${env.LAGO_POLKIT_RULES_DIR}/50-lago.rules (group ${group} may use libvirt): would run\n`), out)
    assert.ok(out.includes(`    usermod -a -G ${group} ${user}\n`), out)
    assert.match(out, /✔ libvirtd answers at qemu:\/\/\/system|libvirtd enabled and running/)
    assert.match(out, /\n6 steps to do: run "lago setup" as root without --dry-run\.$/)
    assert.equal((await execa('getent', ['group', group], {reject: false})).exitCode, 2, 'no group made')
    await assert.rejects(stat(root), /ENOENT/)
  })

  it('without systemd and with libvirtd down, says how to start it by hand', async () => {
    const result = await sandbox.lago(['setup', '--dry-run'], {env: {...env, LAGO__LIBVIRT__URI: BAD_URI}})
    assert.equal(result.exitCode, 0, String(result.all))
    if (
      await access('/run/systemd/system').then(
        () => true,
        () => false,
      )
    ) {
      assert.match(String(result.stdout), /→ libvirtd enabled and running \(systemd\): would run\n    systemctl enable --now libvirtd\n/)
    } else {
      assert.match(String(result.stdout), /! libvirtd is not running, and systemd is not here to start it: start it by hand:\n    virtlogd -d\n    libvirtd -d\n/)
    }
  })

  it('sets the scratch tree up: group, 3775 root:group directories, polkit rule, the user in the group', async () => {
    const result = await sandbox.lago(['setup', '--user', user], {env})
    assert.equal(result.exitCode, 0, String(result.all))
    assert.match(String(result.stdout), /\nDone: 6 steps applied\. The user must log in again for the group to count\.$/)
    const gid = Number((await execa('getent', ['group', group])).stdout.split(':')[2])
    for (const dir of dirs()) {
      const info = await stat(dir)
      assert.equal((info.mode & 0o7777).toString(8), '3775', dir)
      assert.equal(info.uid, 0, dir)
      assert.equal(info.gid, gid, dir)
    }
    const rule = path.join(env.LAGO_POLKIT_RULES_DIR, '50-lago.rules')
    const text = await readFile(rule, 'utf8')
    assert.match(
      text,
      /polkit\.addRule\(function \(action, subject\) \{\n {2}if \(action\.id == "org\.libvirt\.unix\.manage" && subject\.isInGroup\("lagoe2e\d+"\)\) \{\n {4}return polkit\.Result\.YES;\n {2}\}\n\}\);\n$/,
    )
    assert.ok(text.includes(`subject.isInGroup("${group}")`))
    assert.equal(((await stat(rule)).mode & 0o777).toString(8), '644')
    assert.ok((await execa('id', ['-nG', user])).stdout.split(/\s+/).includes(group))
  })

  it('is idempotent: a second run has nothing to do; a drifted mode is the only thing repaired', async () => {
    const again = await sandbox.lago(['setup', '--user', user, '--json'], {env})
    assert.equal(again.exitCode, 0, String(again.all))
    const report = JSON.parse(String(again.stdout))
    assert.deepEqual(report.applied, [])
    assert.ok(
      report.steps.every((s: {state: string}) => s.state === 'done'),
      JSON.stringify(report.steps),
    )
    const text = await sandbox.lago(['setup', '--user', user], {env})
    assert.match(String(text.stdout), /\nNothing to do: this host is set up for Lago\.$/)

    await chmod(env.LAGO_LEASE_DIR, 0o755)
    const repair = JSON.parse(String((await sandbox.lago(['setup', '--json'], {env})).stdout))
    assert.deepEqual(repair.applied, [`dir:${env.LAGO_LEASE_DIR}`])
    assert.equal(((await stat(env.LAGO_LEASE_DIR)).mode & 0o7777).toString(8), '3775')
  })

  it('afterwards the doctor finds the directories writable', async () => {
    const result = await sandbox.lago(['doctor'], {env})
    assert.match(doctorLine(String(result.stdout), 'Lago directories').line, /^✔ Lago directories: .* writable$/)
  })
})
