import assert from 'node:assert/strict'
import {spawn, spawnSync} from 'node:child_process'
import {mkdir, mkdtemp, readdir, readFile, utimes, writeFile} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import {CommandFailedError, DEFAULT_CONFIG, isLagoError, Journal, PrefixLock, run, sweepFiles} from '@lago/core'
import {readTextIfExists} from '../../packages/core/src/util/fs.js'
import {currentProcess} from '../../packages/core/src/util/process-identity.js'

describe('crash safety building blocks', () => {
  let dir: string
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'lago-crash-'))
  })

  describe('the prefix lock', () => {
    it('one holder at a time; --no-wait names the holder', async () => {
      const lock = await PrefixLock.acquire(dir, {verb: 'lago start'})
      assert.equal(JSON.parse(await readFile(PrefixLock.file(dir), 'utf8')).verb, 'lago start')
      await lock.release()
      const holder = spawn('sleep', ['5'])
      await new Promise((resolve) => holder.once('spawn', resolve))
      await writeFile(PrefixLock.file(dir), JSON.stringify({pid: holder.pid, started: '', host: os.hostname(), verb: 'lago start', since: '2026-12-01T10:00:00Z'}))
      await assert.rejects(
        PrefixLock.acquire(dir, {verb: 'lago stop', wait: false}),
        (error: unknown) =>
          isLagoError(error) &&
          error.code === 'LOCKED' &&
          error.message === `Prefix ${path.dirname(dir)} is busy: \`lago start\`, pid ${holder.pid} on ${os.hostname()}, since 2026-12-01T10:00:00Z is changing it.`,
      )
      holder.kill()
    })

    it('a holder that is gone is taken over', async () => {
      const gone = spawnSync('true').pid
      await writeFile(PrefixLock.file(dir), JSON.stringify({pid: gone, started: '1', host: os.hostname(), verb: 'lago start', since: 'earlier'}))
      const lock = await PrefixLock.acquire(dir, {verb: 'lago stop', wait: false})
      assert.equal(JSON.parse(await readFile(PrefixLock.file(dir), 'utf8')).verb, 'lago stop')
      await lock.release()
    })

    it('a pid reused by another process does not keep a lock alive', async () => {
      const me = currentProcess()
      await writeFile(PrefixLock.file(dir), JSON.stringify({...me, started: `${me.started}0`, verb: 'lago start', since: 'earlier'}))
      await (await PrefixLock.acquire(dir, {verb: 'lago stop', wait: false})).release()
    })

    it('waits for a live holder, saying so once, then takes the lock', async () => {
      const sleeper = spawn('sleep', ['0.6'])
      await new Promise((resolve) => sleeper.once('spawn', resolve))
      const started = (await readFile(`/proc/${sleeper.pid}/stat`, 'utf8')).split(') ')[1].split(' ')[19]
      await writeFile(PrefixLock.file(dir), JSON.stringify({pid: sleeper.pid, started, host: os.hostname(), verb: 'lago start', since: 'now'}))
      const waits: string[] = []
      const lock = await PrefixLock.acquire(dir, {verb: 'lago stop', onWait: (holder) => waits.push(holder.verb)})
      assert.deepEqual(waits, ['lago start'])
      await lock.release()
    })

    it('an empty lock file is a holder still writing it, until it is old', async () => {
      await writeFile(PrefixLock.file(dir), '')
      const started = Date.now()
      await (await PrefixLock.acquire(dir, {verb: 'lago stop', wait: false})).release()
      assert.ok(Date.now() - started >= 1500, 'a fresh empty lock file is left to its writer for a while')
      await writeFile(PrefixLock.file(dir), '')
      const old = new Date(Date.now() - 10_000)
      await utimes(PrefixLock.file(dir), old, old)
      const again = Date.now()
      await (await PrefixLock.acquire(dir, {verb: 'lago stop', wait: false})).release()
      assert.ok(Date.now() - again < 1000)
    })
  })

  describe('the journal', () => {
    it('a run that ends is compacted away; one that does not is reported with what it made', async () => {
      const journal = Journal.of(dir)
      const done = await journal.begin('stop')
      await done.removing('domain', 'lago-1-vm0')
      await done.removed('domain', 'lago-1-vm0')
      await done.end('ok')
      assert.equal(await readFile(journal.file, 'utf8'), '')
      assert.equal(await journal.interrupted(), undefined)

      const killed = await journal.begin('start', {vms: []})
      await killed.making('network', 'lago-1-lago', async () => undefined)
      await killed.intent('domain', 'lago-1-vm0')
      await writeFile(journal.file, (await readFile(journal.file, 'utf8')) + '{"t":"done","run":') // torn by a crash
      const interrupted = await journal.interrupted()
      assert.equal(interrupted?.verb, 'start')
      assert.equal(interrupted?.who?.pid, process.pid)
      assert.deepEqual(
        interrupted?.objects.map((o) => `${o.kind}:${o.name}:${o.state}`),
        ['network:lago-1-lago:done', 'domain:lago-1-vm0:intent'],
      )
    })
  })

  it('gc: leases of prefixes that are gone, and locks of dead processes', async () => {
    const leaseDir = path.join(dir, 'subnets')
    const live = path.join(dir, 'live/.lago')
    await mkdir(live, {recursive: true})
    await mkdir(leaseDir)
    await writeFile(path.join(live, 'uuid'), 'u1')
    await writeFile(path.join(leaseDir, '10.0.0.0.lease'), JSON.stringify({uuidFile: path.join(live, 'uuid'), uuid: 'u1', subnet: '10.0.0.0'}))
    await writeFile(path.join(leaseDir, '10.0.1.0.lease'), JSON.stringify({uuidFile: path.join(dir, 'gone/.lago/uuid'), uuid: 'u2', subnet: '10.0.1.0'}))
    const gone = spawnSync('true').pid
    await writeFile(PrefixLock.file(live), JSON.stringify({pid: gone, started: '', host: os.hostname(), verb: 'lago start', since: 'earlier'}))
    const config = structuredClone(DEFAULT_CONFIG)
    Object.assign(config.lago, {lease_dir: leaseDir, subnet_first: '10.0.0.0', subnet_count: 4, template_store: path.join(dir, 'store')})
    const swept = await sweepFiles(config)
    assert.deepEqual(swept.leases, ['10.0.1.0'])
    assert.deepEqual(swept.locks, [`${PrefixLock.file(live)} (\`lago start\`, pid ${gone})`])
    assert.deepEqual(await readdir(leaseDir), ['10.0.0.0.lease'])
  })

  it('only ENOENT is "missing": any other read failure names the file and the errno', async () => {
    assert.equal(await readTextIfExists(path.join(dir, 'absent')), undefined)
    await mkdir(path.join(dir, 'state.json'))
    await assert.rejects(readTextIfExists(path.join(dir, 'state.json')), (error: unknown) => isLagoError(error) && error.message === `Cannot read ${path.join(dir, 'state.json')} (EISDIR).`)
  })

  it('a failing tool is a LagoError naming the tool, its arguments and its own message', async () => {
    await assert.rejects(run('qemu-img', ['info', path.join(dir, 'missing.qcow2')]), (error: unknown) => {
      assert.ok(error instanceof CommandFailedError && isLagoError(error))
      assert.equal(error.code, 'TOOL')
      assert.match(error.message, /^qemu-img failed \(exit 1\): .*missing\.qcow2.*\n {2}command: qemu-img info .*missing\.qcow2$/s)
      assert.equal(error.exitCode, 1, 'an unexpected failure: exit 1')
      return true
    })
  })
})
