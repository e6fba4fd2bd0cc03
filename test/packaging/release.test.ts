import assert from 'node:assert/strict'
import {mkdtemp, readdir, readFile, readlink, rm} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import {gunzipSync} from 'node:zlib'
import {fakeBuild} from '../lib/fake-build.js'
import {promote} from '../../scripts/lib/release.js'
import {publishSnapshot} from '../../scripts/lib/repo-tree.js'

const entry = (version: string, hash: string, subject: string) => `* Wed Nov 25 2026 Jane Doe <jane@example.org> - ${version}\n- ${hash}: ${subject}\n`
const CHANGELOG_3 = [entry('1.0.3', '33333333', 'fix three'), entry('1.0.2', '22222222', 'fix two')].join('\n')
const CHANGELOG_5 = [entry('1.0.5', '55555555', 'fix five'), entry('1.0.4', '44444444', 'fix 100% of four'), CHANGELOG_3].join('\n')
const NOW = new Date('2026-11-25T15:00:00Z')

/** Every path under `dir` (symlinks not followed: shown as "name -> target"); repodata checksums as <sha>. */
async function layout(dir: string, prefix = ''): Promise<string[]> {
  const paths: string[] = []
  for (const item of await readdir(path.join(dir, prefix), {withFileTypes: true})) {
    const relative = path.join(prefix, item.name)
    const shown = relative.replace(/repodata\/[0-9a-f]{64}-/, 'repodata/<sha>-')
    if (item.isSymbolicLink()) paths.push(`${shown} -> ${await readlink(path.join(dir, relative))}`)
    else if (item.isDirectory()) paths.push(`${shown}/`, ...(await layout(dir, relative)))
    else paths.push(shown)
  }
  return paths.sort()
}

/** name-version-release of every package in a repository's primary metadata. */
async function repodataPackages(repoDir: string): Promise<string[]> {
  const repomd = await readFile(path.join(repoDir, 'repodata/repomd.xml'), 'utf8')
  const primary = /<data type="primary">[\s\S]*?<location href="([^"]+)"/.exec(repomd)![1]
  const xml = gunzipSync(await readFile(path.join(repoDir, primary))).toString()
  return [...xml.matchAll(/<name>([^<]+)<\/name>[\s\S]*?<version epoch="0" ver="([^"]+)" rel="([^"]+)"\/>/g)].map((m) => `${m[1]}-${m[2]}-${m[3]}`).sort()
}

describe('release tree (scripts/release)', () => {
  let tmp: string
  let tree: string
  before(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'lago-release-'))
    tree = path.join(tmp, 'lago')
    await fakeBuild(path.join(tmp, 'build-1'), '1.0.3', CHANGELOG_3)
    await fakeBuild(path.join(tmp, 'build-2'), '1.0.5', CHANGELOG_5)
    await fakeBuild(path.join(tmp, 'build-3'), '2.0.0', entry('2.0.0', '66666666', 'new init format'))
  })
  after(() => rm(tmp, {recursive: true, force: true}))

  it('two pipelines publish snapshots; latest follows the newest; promoting one gives the exact stable tree, ChangeLog, repodata and mail', async () => {
    await publishSnapshot(tree, path.join(tmp, 'build-1'), 1)
    await publishSnapshot(tree, path.join(tmp, 'build-2'), 2)
    assert.equal(await readlink(path.join(tree, 'unstable/1.0/latest')), 'snapshot-lago_1.0_pipeline_2')
    assert.deepEqual(await repodataPackages(path.join(tree, 'unstable/1.0/latest/rpm/el9')), ['lago-1.0.5-1.el9', 'lago-ovirt-1.0.5-1.el9', 'nodejs-lago-1.0.5-1.el9'])

    const result = await promote({tree, snapshot: 'snapshot-lago_1.0_pipeline_2', keep: 1, now: NOW})
    assert.deepEqual(result.pruned, ['snapshot-lago_1.0_pipeline_1'])
    const snapshot = (name: string) => [
      `unstable/1.0/${name}/`,
      `unstable/1.0/${name}/ChangeLog`,
      `unstable/1.0/${name}/rpm/`,
      `unstable/1.0/${name}/rpm/el9/`,
      `unstable/1.0/${name}/rpm/el9/lago-1.0.5-1.el9.noarch.rpm`,
      `unstable/1.0/${name}/rpm/el9/lago-ovirt-1.0.5-1.el9.noarch.rpm`,
      `unstable/1.0/${name}/rpm/el9/nodejs-lago-1.0.5-1.el9.noarch.rpm`,
      `unstable/1.0/${name}/rpm/el9/repodata/`,
      `unstable/1.0/${name}/rpm/el9/repodata/<sha>-filelists.xml.gz`,
      `unstable/1.0/${name}/rpm/el9/repodata/<sha>-other.xml.gz`,
      `unstable/1.0/${name}/rpm/el9/repodata/<sha>-primary.xml.gz`,
      `unstable/1.0/${name}/rpm/el9/repodata/repomd.xml`,
      `unstable/1.0/${name}/sources/`,
      `unstable/1.0/${name}/sources/lago-cli-1.0.5.tgz`,
      `unstable/1.0/${name}/sources/lago-core-1.0.5.tgz`,
      `unstable/1.0/${name}/sources/lago-plugin-ovirt-1.0.5.tgz`,
      `unstable/1.0/${name}/version`,
    ]
    assert.deepEqual(
      await layout(tree),
      [
        'stable/',
        'stable/1.0/',
        'stable/1.0/ChangeLog_1.0.txt',
        'stable/1.0/rpm/',
        'stable/1.0/rpm/el9/',
        'stable/1.0/rpm/el9/lago-1.0.5-1.el9.noarch.rpm',
        'stable/1.0/rpm/el9/lago-ovirt-1.0.5-1.el9.noarch.rpm',
        'stable/1.0/rpm/el9/nodejs-lago-1.0.5-1.el9.noarch.rpm',
        'stable/1.0/rpm/el9/repodata/',
        'stable/1.0/rpm/el9/repodata/<sha>-filelists.xml.gz',
        'stable/1.0/rpm/el9/repodata/<sha>-other.xml.gz',
        'stable/1.0/rpm/el9/repodata/<sha>-primary.xml.gz',
        'stable/1.0/rpm/el9/repodata/repomd.xml',
        'stable/1.0/sources/',
        'stable/1.0/sources/lago-cli-1.0.5.tgz',
        'stable/1.0/sources/lago-core-1.0.5.tgz',
        'stable/1.0/sources/lago-plugin-ovirt-1.0.5.tgz',
        'unstable/',
        'unstable/1.0/',
        'unstable/1.0/latest -> snapshot-lago_1.0_pipeline_2',
        ...snapshot('snapshot-lago_1.0_pipeline_2'),
      ].sort(),
    )
    assert.equal(await readFile(path.join(tree, 'stable/1.0/ChangeLog_1.0.txt'), 'utf8'), CHANGELOG_5)
    assert.deepEqual(await repodataPackages(path.join(tree, 'stable/1.0/rpm/el9')), ['lago-1.0.5-1.el9', 'lago-ovirt-1.0.5-1.el9', 'nodejs-lago-1.0.5-1.el9'])
    assert.equal(
      result.mail,
      `Subject: [25-11-2026] New lago release - 1.0.5

Hi everyone! There's a new lago release with version 1.0.5 ready for you to
upgrade!

Here are the changes:
    * Wed Nov 25 2026 Jane Doe <jane@example.org> - 1.0.5
    - 55555555: fix five

    * Wed Nov 25 2026 Jane Doe <jane@example.org> - 1.0.4
    - 44444444: fix 100% of four

    * Wed Nov 25 2026 Jane Doe <jane@example.org> - 1.0.3
    - 33333333: fix three

    * Wed Nov 25 2026 Jane Doe <jane@example.org> - 1.0.2
    - 22222222: fix two

Enjoy!
`,
    )
  })

  it('a later release keeps the earlier RPMs in stable, and its mail lists only what is new', async () => {
    const other = path.join(tmp, 'second-tree')
    await publishSnapshot(other, path.join(tmp, 'build-1'), 7)
    await promote({tree: other, snapshot: 'snapshot-lago_1.0_pipeline_7', now: NOW})
    await publishSnapshot(other, path.join(tmp, 'build-2'), 8)
    const result = await promote({tree: other, snapshot: path.join(other, 'unstable/1.0/snapshot-lago_1.0_pipeline_8'), now: NOW})
    assert.match(result.mail, /Here are the changes:\n {4}\* .* - 1\.0\.5\n {4}- 55555555: fix five\n\n {4}\* .* - 1\.0\.4\n {4}- 44444444: fix 100% of four\n\nEnjoy!\n$/)
    assert.deepEqual(result.pruned, [])
    assert.deepEqual(await repodataPackages(path.join(other, 'stable/1.0/rpm/el9')), [
      'lago-1.0.3-1.el9',
      'lago-1.0.5-1.el9',
      'lago-ovirt-1.0.3-1.el9',
      'lago-ovirt-1.0.5-1.el9',
      'nodejs-lago-1.0.3-1.el9',
      'nodejs-lago-1.0.5-1.el9',
    ])
    await assert.rejects(promote({tree: other, snapshot: 'snapshot-lago_1.0_pipeline_8'}), /stable\/1\.0 already has 1\.0\.5; snapshot-lago_1\.0_pipeline_8 holds 1\.0\.5: promote a newer snapshot/)
    await assert.rejects(publishSnapshot(other, path.join(tmp, 'build-2'), 8), /snapshot-lago_1\.0_pipeline_8 exists already/)
  })

  it('a major bump publishes into its own series and is refused in the previous major stable dir', async () => {
    const other = path.join(tmp, 'third-tree')
    await publishSnapshot(other, path.join(tmp, 'build-2'), 4)
    await promote({tree: other, snapshot: 'snapshot-lago_1.0_pipeline_4', now: NOW})
    const before = await layout(path.join(other, 'stable'))
    const published = await publishSnapshot(other, path.join(tmp, 'build-3'), 5)
    assert.equal(published, path.join(other, 'unstable/2.0/snapshot-lago_2.0_pipeline_5'))
    assert.equal(await readlink(path.join(other, 'unstable/2.0/latest')), 'snapshot-lago_2.0_pipeline_5')
    assert.equal(await readlink(path.join(other, 'unstable/1.0/latest')), 'snapshot-lago_1.0_pipeline_4')
    await assert.rejects(
      promote({tree: other, snapshot: 'snapshot-lago_2.0_pipeline_5', into: '1.0'}),
      /snapshot-lago_2\.0_pipeline_5 holds 2\.0\.0, a major version bump \(a commit marked Sem-Ver: api-breaking\): it cannot go into stable\/1\.0, whose users upgrade within 1\.x only\. Promote it into its own series: --into 2\.0/,
    )
    assert.deepEqual(await layout(path.join(other, 'stable')), before)
    const result = await promote({tree: other, snapshot: 'snapshot-lago_2.0_pipeline_5', now: NOW})
    assert.equal(result.stableDir, path.join(other, 'stable/2.0'))
    assert.equal(await readFile(path.join(other, 'stable/2.0/ChangeLog_2.0.txt'), 'utf8'), entry('2.0.0', '66666666', 'new init format'))
  })
})
