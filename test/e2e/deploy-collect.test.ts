import assert from 'node:assert/strict'
import {mkdir, readdir, readFile, readlink, writeFile} from 'node:fs/promises'
import path from 'node:path'
import {Sandbox} from '../lib/harness.js'

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
    assert.deepEqual(out.vms.map((v: any) => [v.vm, v.scripts.map((s: any) => [s.script, s.exitCode])]), [['vm0', [['slow-write.sh', 0], ['make-tree.sh', 0]]]])
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
    assert.equal(createHash('sha256').update(await readFile(path.join(output, 'vm0/_var_log_lago-test/tree/big.bin'))).digest('hex'), big.out.split(' ')[0])

    const second = await lago(['collect', '--output', output, '--json'])
    assert.equal(second.exitCode, 0, String(second.all))
    const result = JSON.parse(String(second.stdout))
    assert.match(result.rotatedTo, /test_logs\.\d{4}-\d\d-\d\d_\d\d:\d\d:\d\d$/)
    assert.deepEqual((await tree(result.rotatedTo)).length, 13, 'the first collect was moved aside whole')
    assert.deepEqual(result.vms.map((v: any) => [v.vm, v.missing]), [['vm0', ['/no/such/path']], ['vm1', []]])
  })

  it('collect --strict fails on the missing path but still collects the rest', async () => {
    const output = path.join(sandbox.dir, 'strict')
    const result = await lago(['collect', '--output', output, '--strict'])
    assert.equal(result.exitCode, 2, String(result.all))
    assert.match(String(result.stderr), /vm0: missing \/no\/such\/path/)
    assert.ok((await tree(output)).includes('vm1/_var_log_lago-test_tree_sub/b.log'))
  })
})
