import assert from 'node:assert/strict'
import {readdir, readFile, stat, writeFile} from 'node:fs/promises'
import path from 'node:path'
import {libvirtObjectsOf, ONE_VM_INIT_FILE, Sandbox} from '../lib/harness.js'

/**
 * Memory states: `stop --save` then `start` resumes (a process keeps running, the clock is
 * set), a live snapshot's revert resumes, a broken save boots cold and says so, destroy of
 * a saved prefix leaves nothing; and a guest that refuses the prefix key fails `start` fast.
 * One VM, booted once for the whole file (plus one --skip-bootstrap VM for the refusal).
 */
describe('speed: stop --save / resume, live snapshots, SSH refusal (real libvirt)', function () {
  let sandbox: Sandbox
  let prefix: string
  let repo: string
  let id: string
  let sleeper: string
  let bootId: string

  const shell = async (command: string) => {
    const result = await sandbox.lago(['shell', 'vm0', '-c', command], {cwd: prefix})
    assert.equal(result.exitCode, 0, String(result.all))
    return String(result.stdout).trim()
  }
  const lagoOk = async (args: string[], env: Record<string, string> = {}, cwd = prefix) => {
    const result = await sandbox.lago(args, {cwd, env})
    assert.equal(result.exitCode, 0, String(result.all))
    return result
  }
  const vmState = async () => JSON.parse(String((await lagoOk(['status', '--json'])).stdout)).vms[0].state as string
  const logFile = () => path.join(prefix, '.lago/logs/lago.log')
  /** What the prefix log gains while `action` runs. */
  const logged = async (action: () => Promise<unknown>) => {
    const before = (await stat(logFile())).size
    await action()
    return (await readFile(logFile())).subarray(before).toString()
  }
  const guestClockOff = async () => Math.abs(Number(await shell('date +%s')) - Date.now() / 1000)
  const waiters = async () => Number(await shell('ps | grep -c "[l]ago-resume-clock" || true'))

  before(async () => {
    sandbox = await Sandbox.create('speed')
    prefix = path.join(sandbox.dir, 'env')
    repo = await sandbox.templateRepo()
    const initFile = await sandbox.writeInitFile('LagoInitFile', ONE_VM_INIT_FILE)
    await lagoOk(['init', prefix, initFile, '--template-repo-path', repo], {}, sandbox.dir)
    id = JSON.parse(await readFile(path.join(prefix, '.lago/state.json'), 'utf8')).id
    await lagoOk(['start'])
    sleeper = await shell('sleep 10000 >/dev/null 2>&1 & echo $!')
    bootId = await shell('cat /proc/sys/kernel/random/boot_id')
  })

  after(async () => {
    for (const name of ['env', 'refusing']) await sandbox.lago(['destroy', '--yes', '--prefix-path', path.join(sandbox.dir, name)])
    await sandbox.remove()
  })

  it('stop --save keeps the memory state and the network; status shows both; a plain stop then takes the network down', async () => {
    const result = await lagoOk(['stop', '--save'])
    assert.match(String(result.stdout), /Saved vm0/)
    assert.equal(await vmState(), 'saved')
    assert.ok((await stat(path.join(prefix, '.lago/saved/vm0.save'))).size > 0)
    assert.deepEqual(await libvirtObjectsOf(id), [`lago-${id}-lago`], 'no domain while saved; its network stays up for the resume')
    const table = String((await lagoOk(['status'])).stdout)
    assert.match(table, /vm0\s+saved\s/)
    assert.match(table, /^lago\s+nat\s.*\sactive$/m)
    await lagoOk(['stop'])
    assert.deepEqual(await libvirtObjectsOf(id), [], 'nothing runs after a plain stop')
    assert.equal(await vmState(), 'saved', 'a plain stop keeps the saved memory')
  })

  it("verbs that would change a saved VM's disks refuse, naming it and the way out", async () => {
    const snapshot = await sandbox.lago(['snapshot', 'while-saved'], {cwd: prefix})
    assert.equal(snapshot.exitCode, 2, String(snapshot.all))
    assert.match(String(snapshot.stderr), /vm0 is saved .*lago start --cold/s)
    const shellResult = await sandbox.lago(['shell', 'vm0', '-c', 'true'], {cwd: prefix})
    assert.notEqual(shellResult.exitCode, 0)
    assert.match(String(shellResult.stderr), /state: saved/)
  })

  it('start resumes it: the process started before still runs, same boot, clock set (through the resume port, no login), address unchanged', async () => {
    const savedAt = (await stat(path.join(prefix, '.lago/saved/vm0.save'))).mtimeMs
    // Saved long enough that a clock left as it was would show it.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, savedAt + 8_000 - Date.now())))
    let result: Awaited<ReturnType<typeof lagoOk>> | undefined
    const log = await logged(async () => (result = await lagoOk(['start'])))
    assert.doesNotMatch(String(result!.all), /cold/)
    assert.match(String(result!.stdout), /vm0: running at 192\.168\./)
    assert.match(log, /vm0: clock set through its resume port; SSH answers/)
    assert.doesNotMatch(log, /setting its clock on/, 'no login was needed')
    assert.equal(await shell(`kill -0 ${sleeper} && echo alive`), 'alive')
    assert.equal(await shell('cat /proc/sys/kernel/random/boot_id'), bootId)
    const off = await guestClockOff()
    assert.ok(off < 3, `the guest clock is ${off} s off the host's`)
    assert.equal(await waiters(), 0, 'the waiter is gone once it answered')
    assert.deepEqual(await readdir(path.join(prefix, '.lago/saved')), [], 'the used save file is gone')
  })

  it('a guest whose resume port another process holds is saved without a waiter; its clock is then set over SSH', async () => {
    const holder = await shell(`for p in /sys/class/virtio-ports/*; do [ "$(cat $p/name)" = org.lago.resume.0 ] && d=/dev/\${p##*/}; done; sleep 10000 3<>$d >/dev/null 2>&1 & echo $!`)
    const saveLog = await logged(() => lagoOk(['stop', '--save']))
    assert.match(saveLog, /vm0: no clock waiter for the resume \(busy\); its clock will be set over SSH/)
    await new Promise((resolve) => setTimeout(resolve, 8_000))
    const startLog = await logged(() => lagoOk(['start']))
    assert.match(startLog, /vm0: clock set$/m)
    assert.doesNotMatch(startLog, /resume port/)
    const off = await guestClockOff()
    assert.ok(off < 3, `the guest clock is ${off} s off the host's`)
    await shell(`kill ${holder}`)
  })

  it('a live snapshot keeps the memory: revert resumes instead of booting, its clock set through the resume port', async () => {
    await lagoOk(['snapshot', 'live'])
    await shell('touch /root/after-snapshot')
    let result: Awaited<ReturnType<typeof lagoOk>> | undefined
    const log = await logged(async () => (result = await lagoOk(['revert', 'live'])))
    assert.doesNotMatch(String(result!.all), /cold/)
    assert.match(log, /vm0: clock set through its resume port; SSH answers/)
    assert.ok((await guestClockOff()) < 3)
    assert.equal(await shell(`kill -0 ${sleeper} && echo alive`), 'alive')
    assert.equal(await shell('cat /proc/sys/kernel/random/boot_id'), bootId)
    assert.equal(await shell('test -e /root/after-snapshot && echo present || echo absent'), 'absent')
  })

  it('a save that cannot be restored (corrupt file) boots cold and says so', async () => {
    await lagoOk(['stop', '--save'])
    const file = path.join(prefix, '.lago/saved/vm0.save')
    await writeFile(file, Buffer.alloc(4096, 0x42))
    const result = await lagoOk(['start'])
    assert.match(String(result.all), /vm0: its saved memory state could not be restored .*booting it cold/s)
    assert.notEqual(await shell('cat /proc/sys/kernel/random/boot_id'), bootId)
    assert.equal(await vmState(), 'running')
  })

  it('destroy of a saved prefix leaves nothing: no save files, domains or networks', async () => {
    await lagoOk(['stop', '--save'])
    await lagoOk(['destroy', '--yes'])
    await assert.rejects(stat(prefix), {code: 'ENOENT'})
    assert.deepEqual(await libvirtObjectsOf(id), [])
  })

  it('start fails fast, naming VM, user and fix, when the guest refuses the prefix key', async () => {
    const refusing = path.join(sandbox.dir, 'refusing')
    const initFile = await sandbox.writeInitFile('RefusingInitFile', ONE_VM_INIT_FILE)
    await lagoOk(['init', refusing, initFile, '--template-repo-path', repo, '--skip-bootstrap'], {}, sandbox.dir)
    // The tiny template carries no key: without the bootstrap seed, root's authorized_keys stays empty.
    const result = await sandbox.lago(['start'], {cwd: refusing, env: {LAGO__SSH__REFUSAL_TIMEOUT: '3'}})
    assert.notEqual(result.exitCode, 0, String(result.all))
    assert.match(String(result.stderr), /VM vm0 is up but its SSH server \(192\.168\.\d+\.\d+\) refuses user root: it rejected the prefix key .*id_ed25519 for \d+ s/)
    assert.match(String(result.stderr), /authorized_keys lacks .*id_ed25519\.pub.*--skip-bootstrap/s)
    assert.doesNotMatch(String(result.stderr), /did not answer/)
  })
})
