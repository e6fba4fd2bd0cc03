import assert from 'node:assert/strict'
import {chmod, mkdir, mkdtemp, rm} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import {DEFAULT_CONFIG, formatCheckLine, isLagoError, planSetup, preflight, registerHostCheck, runHostChecks, unregisterHostCheck, type HostCheck, type LagoConfig} from '@lago/core'
import {cpuVirtOutcome} from '../../packages/core/src/host/checks/cpu-virt.js'
import {diskSpaceOutcome} from '../../packages/core/src/host/checks/disk-space.js'
import {groupsOutcome} from '../../packages/core/src/host/checks/groups.js'
import {kvmOutcome} from '../../packages/core/src/host/checks/kvm.js'
import {libvirtFix} from '../../packages/core/src/providers/libvirt/virsh.js'
import {nestedOutcome} from '../../packages/core/src/host/checks/nested.js'
import {selinuxOutcome} from '../../packages/core/src/host/checks/selinux.js'
import {toolsOutcome} from '../../packages/core/src/host/checks/tools.js'
import {familyOf, installCommand} from '../../packages/core/src/host/facts.js'

const config = (patch: Partial<LagoConfig['lago']> = {}, libvirt: Partial<LagoConfig['libvirt']> = {}): LagoConfig => ({
  ...structuredClone(DEFAULT_CONFIG),
  lago: {...DEFAULT_CONFIG.lago, ...patch},
  libvirt: {...DEFAULT_CONFIG.libvirt, ...libvirt},
})

describe('host checks: findings and fixes', () => {
  it('CPU virtualization flags', () => {
    assert.equal(cpuVirtOutcome('flags\t: fpu vmx sse').status, 'ok')
    assert.match(cpuVirtOutcome('flags\t: fpu svm').message, /AMD-V/)
    const none = cpuVirtOutcome('flags\t: fpu sse hypervisor')
    assert.equal(none.status, 'warn')
    assert.match(none.message, /itself a VM/)
    assert.match(none.fix!, /host-passthrough/)
  })

  it('KVM: the TCG fallback is a warning, a forced kvm a failure, each with its fix', async () => {
    const missing = await kvmOutcome({works: false, reason: 'no-dev-kvm', cached: false}, 'auto', 'flags : svm')
    assert.equal(missing.status, 'warn')
    assert.equal(missing.message, 'not usable (/dev/kvm is missing): TCG will be used, about 15× slower')
    assert.equal(missing.fix, 'modprobe kvm_amd')
    const forced = await kvmOutcome({works: false, reason: 'probe-failed', cached: true}, 'kvm', '')
    assert.equal(forced.status, 'fail')
    assert.match(forced.fix!, /^LAGO__LIBVIRT__DOMAIN_TYPE=auto .* to fall back to TCG; or enable nested virtualization/)
    assert.equal((await kvmOutcome({works: true, reason: 'ok', cached: true}, 'kvm', '')).status, 'ok')
  })

  it('nested virtualization', () => {
    assert.equal(nestedOutcome('kvm_intel', 'kvm-intel', 'Y\n').status, 'ok')
    const off = nestedOutcome('kvm_intel', 'kvm-intel', 'N\n')
    assert.equal(off.status, 'warn')
    assert.equal(off.fix, 'echo "options kvm-intel nested=1" > /etc/modprobe.d/kvm-intel.conf && modprobe -r kvm_intel && modprobe kvm_intel')
  })

  it('SELinux', () => {
    assert.equal(selinuxOutcome(undefined).status, 'ok')
    assert.equal(selinuxOutcome('0').status, 'ok')
    assert.match(selinuxOutcome('1').fix!, /^setenforce 0/)
  })

  it('install commands per distribution', () => {
    assert.equal(familyOf('ID=debian\n'), 'debian')
    assert.equal(familyOf('ID="centos"\nID_LIKE="rhel fedora"\n'), 'fedora')
    assert.equal(familyOf('ID=arch\n'), 'unknown')
    const packages = {debian: ['qemu-utils'], fedora: ['qemu-img']}
    assert.equal(installCommand(packages, 'fedora'), 'dnf install -y qemu-img')
    assert.match(installCommand(packages, 'unknown'), /apt-get install -y qemu-utils \(Debian\/Ubuntu\) or dnf install -y qemu-img/)
    const missing = toolsOutcome(['virsh'], [{anyOf: ['genisoimage', 'xorriso'], name: 'genisoimage or xorriso', packages: {debian: ['genisoimage'], fedora: ['xorriso']}}], 'fail', 'debian')
    assert.equal(formatCheckLine({id: 'tools', title: 'tools', ...missing}), '✘ tools: missing genisoimage or xorriso\n  Fix: apt-get install -y genisoimage')
  })

  it('groups: root, member, added but not logged in again, not a member', () => {
    const group = {name: 'lago', gid: 990, members: ['ann']}
    assert.equal(groupsOutcome({name: 'root', uid: 0, gids: [0]}, 'lago', group, ['root']).status, 'ok')
    assert.equal(groupsOutcome({name: 'ann', uid: 1000, gids: [1000, 990]}, 'lago', group, ['ann', 'lago']).status, 'ok')
    assert.match(groupsOutcome({name: 'ann', uid: 1000, gids: [1000]}, 'lago', group, ['ann', 'lago']).fix!, /newgrp lago/)
    assert.equal(groupsOutcome({name: 'bob', uid: 1001, gids: [1001]}, 'lago', group, ['bob']).fix, 'sudo lago setup --user bob, then log in again')
    assert.equal(groupsOutcome({name: 'bob', uid: 1001, gids: [1001]}, 'lago', undefined, undefined).fix, 'sudo lago setup --user bob')
  })

  it('libvirt: the fix follows the failure', () => {
    assert.equal(libvirtFix('qemu:///system', 'No such file or directory', true), 'sudo systemctl enable --now libvirtd')
    assert.match(libvirtFix('qemu:///system', 'No such file or directory', false), /virtlogd -d && libvirtd -d/)
    assert.match(libvirtFix('qemu:///system', 'authentication unavailable: no polkit agent', true), /^sudo lago setup --user /)
    assert.match(libvirtFix('qemu+ssh://hv.example/system', 'Connection refused', true), /remote host.*virsh -c 'qemu\+ssh:\/\/hv\.example\/system' uri/)
  })

  it('free space: short directories named with the amount to free', () => {
    const gib = 1024 ** 3
    const outcome = diskSpaceOutcome(
      [
        {label: 'template store', path: '/s', free: 2 * gib, need: 10 * gib, setting: 'template_store'},
        {label: 'prefix', path: '/p', free: 50 * gib, need: gib, setting: 'x'},
      ],
      'fail',
    )
    assert.equal(outcome.status, 'fail')
    assert.equal(outcome.message, '2.0 GiB free under the template store /s (needs 10.0 GiB)')
    assert.match(outcome.fix!, /^free 8\.0 GiB on the filesystem of \/s/)
  })
})

describe('host checks: running, the plugin hook, preflight', () => {
  let dir: string
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'lago-host-'))
  })
  after(async () => rm(dir, {recursive: true, force: true}))

  const pluginCheck: HostCheck = {
    id: 'unit-plugin',
    title: 'plugin thing',
    preflight: ['start'],
    run: async () => ({status: 'fail', message: 'the thing is off', fix: 'thing --on'}),
  }

  it('registered checks run after core ones; a check that throws becomes a warning', async () => {
    registerHostCheck(pluginCheck)
    registerHostCheck({id: 'unit-crash', title: 'crash', run: async () => Promise.reject(new Error('boom'))})
    try {
      const report = await runHostChecks({config: config(), only: ['selinux', 'unit-plugin', 'unit-crash']})
      assert.deepEqual(
        report.checks.map((c) => [c.id, c.status]),
        [
          ['selinux', 'ok'],
          ['unit-plugin', 'fail'],
          ['unit-crash', 'warn'],
        ],
      )
      assert.equal(report.checks[2].message, 'could not check: boom')
      assert.equal(report.ok, false)
    } finally {
      unregisterHostCheck('unit-crash')
    }
  })

  it('preflight runs only the checks of its command and throws the doctor line with the fix', async () => {
    await preflight({config: config(), purpose: 'init', only: ['unit-plugin']}) // not an init check
    await assert.rejects(preflight({config: config(), purpose: 'start', only: ['unit-plugin']}), (error: unknown) => {
      assert.ok(isLagoError(error))
      assert.equal(error.text, 'plugin thing: the thing is off\nFix: thing --on')
      assert.equal(error.exitCode, 2)
      return true
    })
    unregisterHostCheck('unit-plugin')
  })

  it('qemu access: every parent directory must be searchable by the qemu user', async () => {
    const locked = path.join(dir, 'locked')
    await mkdir(path.join(locked, 'deeper'), {recursive: true})
    await chmod(dir, 0o755)
    await chmod(locked, 0o700)
    const report = await runHostChecks({
      config: config({}, {qemu_user: 'nobody'}),
      purpose: 'init',
      prefixPath: path.join(locked, 'deeper', 'env'),
      only: ['qemu-access'],
    })
    const [check] = report.checks
    assert.equal(check.status, 'fail', check.message)
    assert.match(check.message, new RegExp(`cannot enter ${locked}, so it could not open disks under ${locked}/deeper/env \\(prefix\\)$`))
    assert.match(check.fix!, new RegExp(`^chmod o\\+x ${locked} `))
    await chmod(locked, 0o711)
    const fixed = await runHostChecks({config: config({}, {qemu_user: 'nobody'}), purpose: 'init', prefixPath: path.join(locked, 'deeper', 'env'), only: ['qemu-access']})
    assert.equal(fixed.checks[0].status, 'ok')
  })

  it('setup plans every step against the configured paths and changes nothing', async () => {
    const root = path.join(dir, 'root')
    const steps = await planSetup({
      config: config(
        {
          group: `nosuchgroup${process.pid}`,
          template_store: path.join(root, 'store'),
          template_repos: path.join(root, 'repos'),
          lease_dir: path.join(root, 'subnets'),
          polkit_rules_dir: path.join(root, 'polkit'),
        },
        {uri: 'qemu:///system?socket=/nonexistent/sock'},
      ),
    })
    assert.deepEqual(
      steps.map((s) => [s.id.replace(root, 'ROOT'), s.state]),
      [
        ['group', 'todo'],
        ['dir:ROOT/store', 'todo'],
        ['dir:ROOT/repos', 'todo'],
        ['dir:ROOT/subnets', 'todo'],
        ['polkit', 'todo'],
        ['libvirtd', steps[5].state],
      ],
    )
    assert.ok(['manual', 'todo'].includes(steps[5].state))
    await assert.rejects(
      import('node:fs/promises').then((fs) => fs.stat(root)),
      /ENOENT/,
    )
  })
})
