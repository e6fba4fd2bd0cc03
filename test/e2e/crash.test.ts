import assert from 'node:assert/strict'
import {execa} from 'execa'
import {readdir, readFile, writeFile} from 'node:fs/promises'
import path from 'node:path'
import {LAGO_BIN, libvirtObjectsOf, Sandbox} from '../lib/harness.js'

function vmsInitFile(count: number): string {
  const domains = Array.from({length: count}, (_, i) => `  vm${i}:\n    memory: 256\n    vcpu: 1\n    nics: [{net: lago}]\n    disks: [{template_name: tiny, type: template, name: root, dev: vda}]\n`)
  return `domains:\n${domains.join('')}nets:\n  lago:\n    type: nat\n`
}

/** Files anywhere under `dir` whose names match. */
async function filesMatching(dir: string, pattern: RegExp): Promise<string[]> {
  const names = await readdir(dir, {recursive: true}).catch(() => [] as string[])
  return names.filter((name) => pattern.test(path.basename(name))).map((name) => path.join(dir, name))
}

/**
 * SIGKILL at every step a verb journals (LAGO_CRASH_AT=before:N / after:N: just before or
 * just after its Nth journal record), then the next command, then cleanup and gc: nothing
 * may be left. And two `lago start` on one prefix at once: the loser waits and destroys nothing.
 */
describe('crash safety: SIGKILL at any step, two commands at once', function () {
  let sandbox: Sandbox
  let repo: string
  const counts: Record<string, number> = {}
  let serial = 0

  before(async () => {
    sandbox = await Sandbox.create('crash')
    repo = await sandbox.templateRepo()
    await sandbox.writeInitFile('three.yaml', vmsInitFile(3))
    await sandbox.writeInitFile('one.yaml', vmsInitFile(1))
  })

  after(async () => {
    const total = Object.values(counts).reduce((a, b) => a + b, 0)
    console.log(
      `      kill points: ${total} (${Object.entries(counts)
        .map(([verb, n]) => `${verb} ${n}`)
        .join(', ')})`,
    )
    await sandbox.remove()
  })

  async function lago(args: string[], prefix?: string, env: Record<string, string> = {}) {
    return sandbox.lago(prefix ? [...args, '--prefix-path', prefix] : args, {env})
  }

  async function ok(args: string[], prefix?: string) {
    const result = await lago(args, prefix)
    assert.equal(result.exitCode, 0, `lago ${args.join(' ')}: ${String(result.all)}`)
    return result
  }

  async function init(initFile = 'three.yaml'): Promise<{prefix: string; id: string}> {
    const prefix = path.join(sandbox.dir, `env-${++serial}`)
    await ok(['init', prefix, path.join(sandbox.dir, initFile), '--template-repo-path', repo])
    return {prefix, id: (await readFile(path.join(prefix, '.lago/uuid'), 'utf8')).trim().slice(0, 8)}
  }

  /** Runs the verb with a kill point; true when it was killed there (false: it finished before reaching it). */
  async function killedAt(args: string[], prefix: string, point: string): Promise<boolean> {
    const result = await lago(args, prefix, {LAGO_CRASH_AT: point})
    if (result.signal === 'SIGKILL') return true
    assert.equal(result.exitCode, 0, `lago ${args.join(' ')} with LAGO_CRASH_AT=${point} neither died nor succeeded: ${String(result.all)}`)
    return false
  }

  /** Every trace of a prefix that must be gone after cleanup and gc. */
  async function residue(prefix: string, id: string): Promise<string[]> {
    const left = await libvirtObjectsOf(id)
    left.push(...(await sandbox.leaseFiles()).map((f) => `lease ${f}`))
    left.push(...(await filesMatching(sandbox.store, /\.(tmp|part|lock|takeover)$|^\.?lock/)).map((f) => `store file ${f}`))
    left.push(...(await filesMatching(path.join(prefix, '.lago'), /^lock/)).map((f) => `lock file ${f}`))
    left.push(...(await filesMatching(sandbox.leases, /\.lock$/)).map((f) => `lease lock ${f}`))
    const qemu = await execa('pgrep', ['-f', `guest=lago-${id}-`], {reject: false})
    if (String(qemu.stdout).trim()) left.push(`qemu processes ${String(qemu.stdout).trim().replace(/\n/g, ',')}`)
    return left
  }

  /** The next command after a kill: it recovers first and says so in one line. */
  async function next(args: string[], prefix: string, killed: boolean) {
    const result = await ok(args, prefix)
    if (killed) assert.match(String(result.stderr), /lago: (rolled back|finished) the interrupted `lago \w+`|took over the lock/, String(result.all))
    return result
  }

  async function cleanupAndGc(prefix: string, id: string): Promise<void> {
    const exists = await readdir(prefix).then(
      () => true,
      () => false,
    )
    if (exists) await ok(['cleanup'], prefix)
    await ok(['gc'])
    assert.deepEqual(await residue(prefix, id), [])
  }

  /** Kill `verb` at before:N and after:N for N = 1.. until it finishes unharmed, or at the points given. */
  async function sweep(name: string, points: string[] | 'all', setup: () => Promise<{prefix: string; id: string}>, verb: string[], nextArgs: string[]) {
    const list = points === 'all' ? Array.from({length: 40}, (_, i) => [`before:${i + 1}`, `after:${i + 1}`]).flat() : points
    let survived = 0
    for (const point of list) {
      const {prefix, id} = await setup()
      const killed = await killedAt(verb, prefix, point)
      if (killed) {
        counts[name] = (counts[name] ?? 0) + 1
        if ((await readdir(prefix).catch(() => [])).length > 0) await next(nextArgs, prefix, killed)
      } else survived++
      await cleanupAndGc(prefix, id)
      if (points === 'all' && survived >= 2) break // both forms past the last record: the verb is covered
    }
  }

  it('init: killed at every journal step, the next command rolls it back; nothing is left', async () => {
    const initFile = path.join(sandbox.dir, 'three.yaml')
    let survived = 0
    for (let n = 1; survived < 2; n++) {
      for (const point of [`before:${n}`, `after:${n}`]) {
        const prefix = path.join(sandbox.dir, `init-${++serial}`)
        const result = await lago(['init', prefix, initFile, '--template-repo-path', repo], undefined, {LAGO_CRASH_AT: point})
        const id = (await readFile(path.join(prefix, '.lago/uuid'), 'utf8').catch(() => '')).trim().slice(0, 8) || 'no-such-id'
        if (result.signal === 'SIGKILL') {
          counts.init = (counts.init ?? 0) + 1
          const cleanup = await lago(['cleanup'], prefix)
          assert.equal(cleanup.exitCode, 0, String(cleanup.all))
          // Killed between its last record and releasing the lock, init was complete: only the lock is left to take over.
          if (id !== 'no-such-id') assert.match(String(cleanup.stderr), /lago: rolled back the interrupted `lago init`|took over the lock/, String(cleanup.all))
        } else {
          assert.equal(result.exitCode, 0, String(result.all))
          survived++
        }
        await cleanupAndGc(prefix, id)
      }
    }
    assert.ok((counts.init ?? 0) >= 8, `init kill points: ${counts.init}`)
  })

  it('start of 3 VMs: killed before and after each network and domain, the next stop or start recovers; nothing is left', async () => {
    // Kill points before the guests answer are quick; three more land after guests are up.
    const quick = ['before:1', 'after:1', 'before:2', 'after:2', 'before:3', 'after:3', 'before:4', 'after:4', 'after:5', 'after:6']
    await sweep('start', quick, () => init(), ['start'], ['stop'])
    // The next command being start itself: it rolls back, then boots all three.
    const {prefix, id} = await init()
    assert.equal(await killedAt(['start'], prefix, 'after:6'), true)
    counts.start++
    await next(['start'], prefix, true)
    const status = JSON.parse(String((await ok(['status', '--json'], prefix)).stdout)) as {vms: {state: string}[]}
    assert.deepEqual(
      status.vms.map((v) => v.state),
      ['running', 'running', 'running'],
    )
    await cleanupAndGc(prefix, id)
    await sweep('start', ['before:8', 'before:10'], () => init(), ['start'], ['stop'])
  })

  it('snapshot and revert: killed at every step, the next one finishes or rolls back; the state stays usable', async () => {
    await sweep('snapshot', 'all', () => init(), ['snapshot', 's1'], ['snapshot', 'after-the-crash'])
    const setupRevert = async () => {
      const made = await init()
      await ok(['snapshot', 's1'], made.prefix)
      return made
    }
    await sweep('revert', ['before:2', 'after:3', 'before:6', 'after:8', 'before:10', 'after:11', 'before:12', 'after:13', 'before:15', 'after:15'], setupRevert, ['revert', 's1'], ['revert', 's1'])
  })

  it('stop and cleanup: killed part-way, the next one finishes the job', async () => {
    const running = async () => {
      const made = await init()
      await ok(['start'], made.prefix)
      return made
    }
    await sweep('stop', ['after:2', 'before:6'], running, ['stop'], ['stop'])
    await sweep('cleanup', ['before:1', 'after:1', 'after:4', 'before:9'], () => init(), ['cleanup'], ['cleanup'])
  })

  it('a second signal during the rollback exits at once, says what may be left, and the next command rolls the rest back', async () => {
    const {prefix, id} = await init('one.yaml')
    const child = execa(LAGO_BIN, ['start', '--prefix-path', prefix], {env: sandbox.env(), reject: false, all: true})
    let output = ''
    child.all?.on('data', (chunk: Buffer) => (output += chunk.toString()))
    const deadline = Date.now() + 60_000
    while (!/waiting for SSH/.test(output) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50))
    child.kill('SIGINT')
    await new Promise((resolve) => setTimeout(resolve, 30))
    child.kill('SIGTERM')
    const result = await child
    assert.equal(result.exitCode, 143, String(result.all))
    assert.match(String(result.all), /Interrupted again by SIGTERM: exiting without finishing the rollback\./)
    const stop = await ok(['stop'], prefix)
    assert.match(String(stop.stderr), /lago: rolled back the interrupted `lago start`|took over the lock/, String(stop.all))
    await cleanupAndGc(prefix, id)
  })

  it('covered at least 40 kill points across init, start, snapshot, revert, stop and cleanup', () => {
    const total = Object.values(counts).reduce((a, b) => a + b, 0)
    assert.ok(total >= 40, `${total} kill points: ${JSON.stringify(counts)}`)
    for (const verb of ['init', 'start', 'snapshot', 'revert', 'stop', 'cleanup']) assert.ok((counts[verb] ?? 0) > 0, `no kill point in ${verb}`)
  })

  it('an empty and a corrupt state.json still clean up fully', async () => {
    const running = await Promise.all(
      ['', '{"version": 1, "vms": [tru'].map(async (content) => {
        const made = await init('one.yaml')
        await ok(['start'], made.prefix)
        return {...made, content}
      }),
    )
    for (const {prefix, content} of running) {
      await writeFile(path.join(prefix, '.lago/state.json'), content)
      const status = await lago(['status'], prefix)
      assert.equal(status.exitCode, 2)
      assert.match(String(status.stderr), /state\.json is (empty|corrupt)/)
      await ok(['cleanup'], prefix)
    }
    // Leases are the sandbox's, not one prefix's: checked once both are cleaned up.
    for (const {prefix, id} of running) {
      assert.deepEqual(await residue(prefix, id), [])
      await ok(['destroy', '--yes'], prefix)
    }
  })

  // A third of the rounds race a cold boot, the rest a resume from `stop --save` (two restores of
  // one save file must never both run): the same lock, at about a third of the boots' cost.
  it('two `lago start` on one prefix at once, 20 times (cold boots and resumes): the second waits, every VM ends up running, nothing is destroyed', async () => {
    const {prefix, id} = await init('one.yaml')
    let waited = 0
    let saved = false
    for (let round = 0; round < 20; round++) {
      const resume = saved
      const [a, b] = await Promise.all([lago(['start'], prefix), lago(['start'], prefix)])
      assert.equal(a.exitCode, 0, `round ${round}: ${String(a.all)}`)
      assert.equal(b.exitCode, 0, `round ${round}: ${String(b.all)}`)
      const both = String(a.all) + String(b.all)
      if (/Waiting for `lago start`, pid \d+/.test(both)) waited++
      if (resume) assert.match(both, /resuming from its saved memory state/, `round ${round}`)
      if (resume) assert.doesNotMatch(both, /booting it cold/, `round ${round}`)
      const status = JSON.parse(String((await ok(['status', '--json'], prefix)).stdout)) as {vms: {state: string}[]; nets: {active: boolean}[]}
      assert.equal(status.vms[0].state, 'running', `round ${round}`)
      assert.equal(status.nets[0].active, true, `round ${round}`)
      // The last round stops plainly: the start that holds the lock below must be a cold boot (a resume can end before the check).
      saved = round % 3 !== 2 && round < 19
      await ok(saved ? ['stop', '--save'] : ['stop'], prefix)
    }
    assert.equal(waited, 20, 'in every round one start waited for the other')
    const busy = lago(['start'], prefix)
    await new Promise((resolve) => setTimeout(resolve, 1500))
    const refused = await lago(['stop', '--no-wait'], prefix)
    assert.equal(refused.exitCode, 2, String(refused.all))
    assert.match(String(refused.stderr), /is busy: `lago start`, pid \d+ on \S+, since \S+ is changing it\./)
    assert.equal((await busy).exitCode, 0)
    await cleanupAndGc(prefix, id)
  })
})
