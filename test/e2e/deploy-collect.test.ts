import assert from 'node:assert/strict'
import {mkdir, readdir, readFile, readlink, stat, symlink, writeFile} from 'node:fs/promises'
import path from 'node:path'
import {execa} from 'execa'
import {REPO_ROOT, Sandbox} from '../lib/harness.js'

const which = async (tool: string) => (await execa('which', [tool], {reject: false})).exitCode === 0

// Two VMs for deploy, collect, the inventory and export: vm0's scripts succeed (slowly),
// vm1's second script fails, so its third never runs.
const TWO_VMS = `
domains:
  vm0:
    memory: 192
    vcpu: 1
    groups: [web, lago]
    nics: [{net: lago}]
    disks:
      - {type: template, template_name: tiny, name: root, dev: vda}
    deploy-scripts:
      - scripts/slow-write.sh
      - $LAGO_INITFILE_PATH/scripts/make-tree.sh
    artifacts:
      - /var/log/lago-test
      - /etc/motd-lago
      - /no/such/path
  vm1:
    memory: 192
    vcpu: 1
    groups: db
    nics: [{net: lago}]
    disks:
      - {type: template, template_name: tiny, name: root, dev: vda}
    metadata:
      deploy-scripts: [scripts/write.sh, scripts/fail.sh, scripts/never.sh]
    artifacts:
      - /var/log/lago-test/tree/sub/
nets:
  lago:
    type: nat
`

const SCRIPTS: Record<string, string> = {
  'slow-write.sh': '#!/bin/sh\nsleep 3\necho "vm0 writes" > /root/deployed-slow\necho "slow done on $LAGO_VM_NAME"\n',
  // No "#!": runs under the guest's sh.
  'make-tree.sh': [
    'set -e',
    'mkdir -p /var/log/lago-test/tree/sub /var/log/lago-test/empty',
    'echo one > /var/log/lago-test/a.log',
    'echo two > /var/log/lago-test/tree/sub/b.log',
    'head -c 300000 /dev/urandom > /var/log/lago-test/tree/big.bin',
    'ln -sf /var/log/lago-test/a.log /var/log/lago-test/link-to-a',
    'echo motd > /etc/motd-lago',
    'echo tree made',
  ].join('\n'),
  'write.sh': '#!/bin/sh\necho "vm1 writes" > /root/deployed-first\nmkdir -p /var/log/lago-test/tree/sub\necho vm1 > /var/log/lago-test/tree/sub/b.log\necho first ok\n',
  'fail.sh': '#!/bin/sh\necho "line before the failure"\necho "about to fail" >&2\nexit 3\n',
  'never.sh': '#!/bin/sh\ntouch /root/never\n',
}

async function tree(dir: string, base = dir): Promise<string[]> {
  const out: string[] = []
  for (const entry of await readdir(dir, {withFileTypes: true})) {
    const full = path.join(dir, entry.name)
    const rel = path.relative(base, full)
    if (entry.isDirectory()) out.push(`${rel}/`, ...(await tree(full, base)))
    else if (entry.isSymbolicLink()) out.push(`${rel} -> ${await readlink(full)}`)
    else out.push(rel)
  }
  return out.sort()
}

describe('deploy, collect, inventory and export on a two-VM environment', function () {
  let sandbox: Sandbox
  let prefix: string
  const lago = (args: string[]) => sandbox.lago(args, {cwd: prefix})
  const sh = async (vm: string, command: string) => {
    const result = await lago(['shell', vm, '-c', command])
    return {code: result.exitCode, out: String(result.stdout).trim()}
  }

  before(async () => {
    sandbox = await Sandbox.create('deploy')
    prefix = path.join(sandbox.dir, 'env')
    const repo = await sandbox.templateRepo()
    await mkdir(path.join(sandbox.dir, 'scripts'))
    for (const [name, text] of Object.entries(SCRIPTS)) await writeFile(path.join(sandbox.dir, 'scripts', name), text, {mode: 0o644})
    const initFile = await sandbox.writeInitFile('LagoInitFile', TWO_VMS)
    const init = await sandbox.lago(['init', prefix, initFile, '--template-repo-path', repo])
    assert.equal(init.exitCode, 0, String(init.all))
    const start = await lago(['start'])
    assert.equal(start.exitCode, 0, String(start.all))
  })

  after(async () => {
    await sandbox.lago(['destroy', '--yes', '--prefix-path', prefix])
    await sandbox.lago(['gc'])
    await sandbox.remove()
  })

  it('init refuses a deploy script that does not exist, naming the field', async () => {
    const initFile = await sandbox.writeInitFile('Missing', TWO_VMS.replace('scripts/never.sh', 'scripts/nope.sh'))
    const init = await sandbox.lago(['init', path.join(sandbox.dir, 'never-made'), initFile])
    assert.equal(init.exitCode, 2, String(init.all))
    assert.match(String(init.stderr), /domains\.vm1\.deploy-scripts\[2\]: .*scripts\/nope\.sh does not exist/)
  })

  it('deploy runs the scripts in order; a failing script stops its VM, the other VM finishes, the error names VM, script, status and output', async () => {
    const result = await lago(['deploy'])
    assert.equal(result.exitCode, 2, String(result.all))
    const stderr = String(result.stderr)
    assert.match(stderr, /Deploy failed on 1 of 2 VMs:/)
    assert.match(stderr, /vm1: script fail\.sh failed with exit status 3/)
    assert.match(stderr, /last lines of output:\n\s+line before the failure\n\s+about to fail/)
    assert.match(stderr, /Finished without errors: vm0\./)
    assert.equal((await sh('vm0', 'cat /root/deployed-slow')).out, 'vm0 writes', 'vm0 finished after vm1 failed')
    assert.equal((await sh('vm0', 'cat /var/log/lago-test/a.log')).out, 'one')
    assert.equal((await sh('vm1', 'cat /root/deployed-first')).out, 'vm1 writes')
    assert.equal((await sh('vm1', 'test -e /root/never')).code, 1, 'the script after the failing one did not run')
    const vm0Log = await readFile(path.join(prefix, '.lago/logs/deploy/vm0.log'), 'utf8')
    assert.match(vm0Log, /slow done on vm0/)
    assert.match(vm0Log, /### make-tree\.sh: exit status 0/)
    assert.match(await readFile(path.join(prefix, '.lago/logs/deploy/vm1.log'), 'utf8'), /### fail\.sh: exit status 3/)
  })

  it('deploy --vm runs one VM only and --json reports its scripts', async () => {
    const result = await lago(['deploy', '--vm', 'vm0', '--json'])
    assert.equal(result.exitCode, 0, String(result.all))
    const out = JSON.parse(String(result.stdout))
    assert.deepEqual(
      out.vms.map((v: any) => [v.vm, v.scripts.map((s: any) => [s.script, s.exitCode])]),
      [
        [
          'vm0',
          [
            ['slow-write.sh', 0],
            ['make-tree.sh', 0],
          ],
        ],
      ],
    )
  })

  it('collect copies each artifact into OUTPUT/<vm>/<path with / as _>, reports the missing one, and rotates an existing output', async () => {
    const output = path.join(sandbox.dir, 'test_logs')
    const first = await lago(['collect', '--output', output])
    assert.equal(first.exitCode, 0, String(first.all))
    assert.match(String(first.all), /vm0: 2 collected \(ssh\), missing: \/no\/such\/path/)
    assert.deepEqual(await tree(output), [
      'vm0/',
      'vm0/_etc_motd-lago',
      'vm0/_var_log_lago-test/',
      'vm0/_var_log_lago-test/a.log',
      'vm0/_var_log_lago-test/empty/',
      'vm0/_var_log_lago-test/link-to-a', // symlinks are followed: the file's content
      'vm0/_var_log_lago-test/tree/',
      'vm0/_var_log_lago-test/tree/big.bin',
      'vm0/_var_log_lago-test/tree/sub/',
      'vm0/_var_log_lago-test/tree/sub/b.log',
      'vm1/',
      'vm1/_var_log_lago-test_tree_sub/',
      'vm1/_var_log_lago-test_tree_sub/b.log',
    ])
    assert.equal(await readFile(path.join(output, 'vm0/_var_log_lago-test/link-to-a'), 'utf8'), 'one\n')
    assert.equal((await readFile(path.join(output, 'vm0/_var_log_lago-test/tree/big.bin'))).length, 300000)
    const big = await sh('vm0', 'sha256sum /var/log/lago-test/tree/big.bin')
    const {createHash} = await import('node:crypto')
    assert.equal(
      createHash('sha256')
        .update(await readFile(path.join(output, 'vm0/_var_log_lago-test/tree/big.bin')))
        .digest('hex'),
      big.out.split(' ')[0],
    )

    const second = await lago(['collect', '--output', output, '--json'])
    assert.equal(second.exitCode, 0, String(second.all))
    const result = JSON.parse(String(second.stdout))
    assert.match(result.rotatedTo, /test_logs\.\d{4}-\d\d-\d\d_\d\d:\d\d:\d\d$/)
    assert.deepEqual((await tree(result.rotatedTo)).length, 13, 'the first collect was moved aside whole')
    assert.deepEqual(
      result.vms.map((v: any) => [v.vm, v.missing]),
      [
        ['vm0', ['/no/such/path']],
        ['vm1', []],
      ],
    )
  })

  it('collect --strict fails on the missing path but still collects the rest', async () => {
    const output = path.join(sandbox.dir, 'strict')
    const result = await lago(['collect', '--output', output, '--strict'])
    assert.equal(result.exitCode, 2, String(result.all))
    assert.match(String(result.stderr), /vm0: missing \/no\/such\/path/)
    assert.ok((await tree(output)).includes('vm1/_var_log_lago-test_tree_sub/b.log'))
  })

  it('ansible-hosts lists every VM with the address status --json reports, the prefix key and the groups', async () => {
    const status = JSON.parse(String((await lago(['status', '--json'])).stdout))
    const ip = (vm: string) => status.vms.find((v: any) => v.name === vm).ip
    const key = path.join(prefix, '.lago/id_ed25519')
    const sshArgs = '-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null'
    const ini = await lago(['ansible-hosts'])
    assert.equal(ini.exitCode, 0, String(ini.all))
    assert.equal(
      String(ini.stdout),
      [
        `vm0 ansible_host=${ip('vm0')} ansible_user=root ansible_ssh_private_key_file=${key} ansible_ssh_common_args="${sshArgs}"`,
        `vm1 ansible_host=${ip('vm1')} ansible_user=root ansible_ssh_private_key_file=${key} ansible_ssh_common_args="${sshArgs}"`,
        '',
        '[web]',
        'vm0',
        '',
        '[lago]',
        'vm0',
        '',
        '[db]',
        'vm1',
      ].join('\n'),
    )
    const json = JSON.parse(String((await lago(['ansible-hosts', '--json'])).stdout))
    for (const vm of status.vms) assert.deepEqual(json.all.hosts[vm.name], {ansible_host: vm.ip, ansible_user: 'root', ansible_ssh_private_key_file: key, ansible_ssh_common_args: sshArgs})
    assert.deepEqual(Object.keys(json.all.children), ['web', 'lago', 'db'])
    const yaml = await lago(['ansible-hosts', '--format', 'yaml'])
    assert.match(String(yaml.stdout), /^all:\n  hosts:\n    vm0:\n      ansible_host: /)
  })

  it('collect reads a VM that is down from its disk with libguestfs, or says clearly that it cannot', async () => {
    assert.equal((await lago(['shutdown', 'vm1'])).exitCode, 0)
    const output = path.join(sandbox.dir, 'down')
    // Without libguestfs on PATH (only what collect needs otherwise): a clear error for vm1, vm0 still collected.
    const bin = path.join(sandbox.dir, 'bin-without-guestfish')
    await mkdir(bin)
    for (const tool of ['virsh', 'tar']) await symlink(`/usr/bin/${tool}`, path.join(bin, tool))
    const without = await execa(process.execPath, [path.join(REPO_ROOT, 'packages/cli/bin/run.js'), 'collect', '--output', output], {
      cwd: prefix,
      reject: false,
      all: true,
      env: {...sandbox.env(), PATH: bin, OCLIF_SKIP_NEW_VERSION_CHECK: 'true', LAGO_DATA_DIR: path.join(REPO_ROOT, '.data')},
    })
    assert.equal(without.exitCode, 2, String(without.all))
    assert.match(String(without.stderr), /vm1: VM vm1 is down and libguestfs is not installed, so its disk cannot be read\./)
    assert.ok((await tree(output)).includes('vm0/_etc_motd-lago'), 'the running VM was collected all the same')
    if (!(await which('guestfish'))) return
    const withGuestfs = await lago(['collect', '--output', output, '--vm', 'vm1', '--json'])
    assert.equal(withGuestfs.exitCode, 0, String(withGuestfs.all))
    assert.deepEqual(
      JSON.parse(String(withGuestfs.stdout)).vms.map((v: any) => [v.vm, v.method]),
      [['vm1', 'libguestfs']],
    )
    assert.deepEqual(await tree(path.join(output, 'vm1')), ['_var_log_lago-test_tree_sub/', '_var_log_lago-test_tree_sub/b.log'])
    assert.equal(await readFile(path.join(output, 'vm1/_var_log_lago-test_tree_sub/b.log'), 'utf8'), 'vm1\n')
  })

  it('export writes overlays on template copies (or standalone images) and an init file; a new prefix boots from it', async () => {
    assert.equal((await lago(['export', '--output', path.join(sandbox.dir, 'refused')])).exitCode, 2, 'vm0 is running: refused')
    assert.equal((await lago(['shutdown', 'vm0'])).exitCode, 0)
    const layered = path.join(sandbox.dir, 'exported')
    const exported = await lago(['export', '--output', layered, '--json'])
    assert.equal(exported.exitCode, 0, String(exported.all))
    assert.deepEqual(await tree(layered), [
      'LagoInitFile',
      'scripts/',
      'scripts/vm0/',
      'scripts/vm0/make-tree.sh',
      'scripts/vm0/slow-write.sh',
      'scripts/vm1/',
      'scripts/vm1/fail.sh',
      'scripts/vm1/never.sh',
      'scripts/vm1/write.sh',
      'templates/',
      'templates/lago-test_tiny_v1.qcow2',
      'vm0_root.qcow2',
      'vm1_root.qcow2',
    ])
    const info = JSON.parse(String((await execa('qemu-img', ['info', '--output=json', path.join(layered, 'vm0_root.qcow2')])).stdout))
    assert.equal(info['backing-filename'], 'templates/lago-test_tiny_v1.qcow2', 'a relative backing file: the export can move')
    const standalone = path.join(sandbox.dir, 'standalone')
    assert.equal((await lago(['export', '--output', standalone, '--standalone', '--vm', 'vm0'])).exitCode, 0)
    const flat = JSON.parse(String((await execa('qemu-img', ['info', '--output=json', path.join(standalone, 'vm0_root.qcow2')])).stdout))
    assert.equal(flat['backing-filename'], undefined)
    assert.match(await readFile(path.join(standalone, 'LagoInitFile'), 'utf8'), /deploy-scripts:\n\s+- scripts\/vm0\/slow-write\.sh\n\s+- scripts\/vm0\/make-tree\.sh/)

    const before = (await stat(path.join(layered, 'vm0_root.qcow2'))).mtimeMs
    const copy = path.join(sandbox.dir, 'from-export')
    const init = await sandbox.lago(['init', copy, path.join(layered, 'LagoInitFile')])
    assert.equal(init.exitCode, 0, String(init.all))
    try {
      const start = await sandbox.lago(['start', 'vm0'], {cwd: copy})
      assert.equal(start.exitCode, 0, String(start.all))
      const marker = await sandbox.lago(['shell', 'vm0', '-c', 'hostname; cat /root/deployed-slow /var/log/lago-test/a.log'], {cwd: copy})
      assert.equal(String(marker.stdout).trim(), 'vm0\nvm0 writes\none', 'the new VM has what deploy wrote on the old one')
      const inventory = JSON.parse(String((await sandbox.lago(['ansible-hosts', '--json'], {cwd: copy})).stdout))
      assert.deepEqual(Object.keys(inventory.all.children), ['web', 'lago', 'db'], 'groups came along')
    } finally {
      await sandbox.lago(['destroy', '--yes', '--prefix-path', copy])
    }
    assert.equal((await stat(path.join(layered, 'vm0_root.qcow2'))).mtimeMs, before, 'the export itself was never written')
  })
})
