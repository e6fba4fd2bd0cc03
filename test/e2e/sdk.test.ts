// The worked example of docs/sdk.md: a test that drives an environment through the public
// exports of @lago/core only (the harness is used just to create the prefix and sandbox it).
import assert from 'node:assert/strict'
import {mkdir, readFile, readdir, writeFile} from 'node:fs/promises'
import path from 'node:path'
import {collect, createSnapshot, deploy, isLagoError, openPrefix, plainRunner, revertSnapshot, type Prefix} from '@lago/core'
import {Sandbox} from '../lib/harness.js'

const ONE_VM = `
domains:
  app:
    memory: 192
    vcpu: 1
    nics: [{net: lago}]
    disks: [{type: template, template_name: tiny, name: root, dev: vda}]
    deploy-scripts: [setup.sh]
    artifacts: [/var/log/app]
nets:
  lago: {type: nat}
`

describe('the SDK (public exports of @lago/core)', function () {
  let sandbox: Sandbox
  let prefixDir: string
  let prefix: Prefix
  const savedEnv = {...process.env}

  before(async () => {
    sandbox = await Sandbox.create('sdk')
    prefixDir = path.join(sandbox.dir, 'env')
    await writeFile(path.join(sandbox.dir, 'setup.sh'), '#!/bin/sh\nmkdir -p /var/log/app\necho "configured $LAGO_VM_NAME for $APP_MODE" > /var/log/app/setup.log\n')
    const init = await sandbox.lago(['init', prefixDir, await sandbox.writeInitFile('LagoInitFile', ONE_VM), '--template-repo-path', await sandbox.templateRepo()])
    assert.equal(init.exitCode, 0, String(init.all))
    // The SDK reads the same settings as the CLI (here: the sandbox's store, leases, timeouts).
    Object.assign(process.env, sandbox.env())
    prefix = await openPrefix(prefixDir)
    const {tasks} = await prefix.startTasks()
    await plainRunner()(tasks)
  })

  after(async () => {
    process.env = savedEnv
    await sandbox.lago(['destroy', '--yes', '--prefix-path', prefixDir])
    await sandbox.remove()
  })

  it('lists VMs with their state and address', async () => {
    const status = await prefix.status()
    assert.deepEqual(
      status.vms.map((vm) => [vm.name, vm.state]),
      [['app', 'running']],
    )
    assert.match(status.vms[0].ip!, /^192\.168\.\d+\.\d+$/)
  })

  it('runs commands and copies files both ways', async () => {
    const hello = await prefix.exec('app', 'echo hello from $(hostname)')
    assert.deepEqual([hello.exitCode, hello.stdout.trim()], [0, 'hello from app'])
    assert.equal((await prefix.exec('app', 'exit 7')).exitCode, 7)
    const local = path.join(sandbox.dir, 'payload')
    await mkdir(local)
    await writeFile(path.join(local, 'data.txt'), 'payload\n')
    await prefix.copyTo('app', local, '/root')
    assert.equal((await prefix.exec('app', 'cat /root/payload/data.txt')).stdout, 'payload\n')
    const back = path.join(sandbox.dir, 'back')
    await prefix.copyFrom('app', '/root/payload', back)
    assert.equal(await readFile(path.join(back, 'data.txt'), 'utf8'), 'payload\n')
  })

  it('deploys with extra environment and collects the artifacts, plus a default path a plugin would add', async () => {
    const [result] = await deploy(prefix, {env: {APP_MODE: 'test'}})
    assert.deepEqual(
      result.scripts.map((s) => [s.script, s.exitCode]),
      [['setup.sh', 0]],
    )
    const output = path.join(sandbox.dir, 'logs')
    const collected = await collect(prefix, {output, extraArtifacts: () => ['/var/log/messages']})
    assert.deepEqual(
      collected.vms[0].collected.map((c) => c.path),
      ['/var/log/app', '/var/log/messages'],
    )
    assert.deepEqual((await readdir(path.join(output, 'app'))).sort(), ['_var_log_app', '_var_log_messages'])
    assert.equal(await readFile(path.join(output, 'app/_var_log_app/setup.log'), 'utf8'), 'configured app for test\n')
  })

  it('snapshots and reverts', async () => {
    await createSnapshot(prefix, 'configured')
    await prefix.exec('app', 'rm -rf /var/log/app; sync')
    const restart = await revertSnapshot(prefix, 'configured')
    await plainRunner()((await prefix.startTasks(restart)).tasks)
    assert.equal((await prefix.exec('app', 'cat /var/log/app/setup.log')).stdout, 'configured app for test\n')
  })

  it('reports failures as LagoError with the details', async () => {
    const error = await prefix.exec('nope', 'true').catch((e: unknown) => e)
    assert.ok(isLagoError(error))
    assert.match(error.message, /No VM named "nope"/)
  })
})
