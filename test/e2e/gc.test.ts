import assert from 'node:assert/strict'
import {chmod, mkdir, writeFile} from 'node:fs/promises'
import path from 'node:path'
import {Sandbox, virsh} from '../lib/harness.js'

/** A defined (never started) libvirt network carrying a Lago owner tag: cheap stand-ins for leftovers. */
async function defineTagged(sandbox: Sandbox, name: string, owner: {prefixId: string; prefixPath: string}): Promise<void> {
  const file = path.join(sandbox.dir, `${name}.xml`)
  await writeFile(
    file,
    `<network><name>${name}</name><metadata><lago:owner xmlns:lago="https://lago-project.github.io/xmlns/lago/1" prefix-id="${owner.prefixId}" prefix-path="${owner.prefixPath}" name="${name}"/></metadata><bridge name="lg${owner.prefixId.slice(0, 6)}${name.length}" stp="on" delay="0"/></network>`,
  )
  await virsh(['net-define', file])
}

describe('gc against libvirt: only provable orphans', function () {
  let sandbox: Sandbox
  const names: string[] = []

  before(async () => {
    sandbox = await Sandbox.create('gc')
  })

  after(async () => {
    for (const name of names) await virsh(['net-undefine', name]).catch(() => undefined)
    await sandbox.remove()
  })

  it('removes an orphan whose prefix is gone, keeps a forged tag, a live prefix and an unreadable one', async () => {
    const gone = 'lago-0badc0de-gone'
    const forged = 'somebody-elses-net'
    const live = 'lago-1badc0de-live'
    const unreadable = 'lago-2badc0de-hidden'
    names.push(gone, forged, live, unreadable)
    await defineTagged(sandbox, gone, {prefixId: '0badc0de', prefixPath: path.join(sandbox.dir, 'gone')})
    await defineTagged(sandbox, forged, {prefixId: '3badc0de', prefixPath: path.join(sandbox.dir, 'gone-too')})
    const livePrefix = path.join(sandbox.dir, 'live')
    await mkdir(path.join(livePrefix, '.lago'), {recursive: true})
    await writeFile(path.join(livePrefix, '.lago', 'uuid'), '1badc0de00000000')
    await defineTagged(sandbox, live, {prefixId: '1badc0de', prefixPath: livePrefix})
    // Root reads through 0700; a directory that is not a directory (ENOTDIR) stands in for "cannot be read".
    const blocker = path.join(sandbox.dir, 'blocker')
    await writeFile(blocker, 'a file, not a directory')
    await chmod(blocker, 0o600)
    await defineTagged(sandbox, unreadable, {prefixId: '2badc0de', prefixPath: path.join(blocker, 'env')})

    const dry = await sandbox.lago(['gc', '--dry-run', '--json'])
    assert.equal(dry.exitCode, 0, String(dry.all))
    const report = JSON.parse(String(dry.stdout)) as {orphans: {name: string}[]; spared: {name: string; reason: string}[]}
    const ours = (list: {name: string}[]) => list.map((o) => o.name).filter((n) => names.includes(n))
    assert.deepEqual(ours(report.orphans), [gone])
    const reasons = Object.fromEntries(report.spared.filter((s) => names.includes(s.name)).map((s) => [s.name, s.reason]))
    assert.match(reasons[forged], /does not match its name/)
    assert.match(reasons[live], /still exists/)
    assert.match(reasons[unreadable], /cannot be read \(ENOTDIR\)/)

    const gc = await sandbox.lago(['gc'])
    assert.equal(gc.exitCode, 0, String(gc.all))
    assert.match(String(gc.stdout), new RegExp(`removed network ${gone}`))
    assert.match(String(gc.stdout), new RegExp(`kept network ${forged}: `))
    const left = (await virsh(['net-list', '--all', '--name'])).split('\n').map((s) => s.trim())
    assert.ok(!left.includes(gone), 'the orphan is gone')
    for (const kept of [forged, live, unreadable]) assert.ok(left.includes(kept), `${kept} is kept`)
  })
})
