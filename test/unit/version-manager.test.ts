import assert from 'node:assert/strict'
import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import {execa} from 'execa'
import {GitRepo} from '../lib/git-repo.js'
import {REPO_ROOT} from '../lib/harness.js'
import {resolveVersion} from '../../scripts/lib/resolve-version.js'
import {formatVersion} from '../../scripts/lib/version.js'
import {changelogEntriesAfter} from '../../scripts/lib/changelog.js'

const VERSION_MANAGER = path.join(REPO_ROOT, 'scripts/version-manager')
const NO_PIN = {...process.env, LAGO_VERSION: ''}

describe('version-manager', () => {
  let tmp: string
  let repo: GitRepo
  beforeEach(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'lago-version-'))
    repo = await GitRepo.create(await mkdtemp(path.join(tmp, 'repo-')))
  })
  afterEach(() => rm(tmp, {recursive: true, force: true}))

  const version = async (dir = repo.dir) => formatVersion((await resolveVersion(dir, NO_PIN)).version)

  it('a commit tagged X.Y is X.Y.0; each commit since adds one to Z', async () => {
    await repo.commits(2)
    await repo.commit('release')
    await repo.tag('1.2')
    assert.equal(await version(), '1.2.0')
    await repo.commits(3)
    assert.equal(await version(), '1.2.3')
  })

  it('the newest X.Y tag counts; annotated X.Y tags count, other tag names do not', async () => {
    await repo.commit('one')
    await repo.tag('0.9')
    await repo.commits(4)
    await repo.tag('1.0', true)
    await repo.commit('after')
    await repo.tag('v7-not-a-release')
    await repo.commit('again')
    assert.equal(await version(), '1.0.2')
  })

  it('a commit with "Sem-Ver: api-breaking" since the tag raises X: X+1.0.N', async () => {
    await repo.commit('base')
    await repo.tag('1.4')
    await repo.commits(2)
    await repo.commit('Drop the old init format', 'It is gone.\n\nSem-Ver: api-breaking')
    assert.equal(await version(), '2.0.0')
    await repo.commits(3)
    assert.equal(await version(), '2.0.3')
  })

  it('the header is case-insensitive; commits without it do not break; "Sem-Ver: feature" raises Y', async () => {
    await repo.commit('base')
    await repo.tag('3.1')
    await repo.commit('mentions Sem-Ver: api-breaking in the subject only, not as a header line')
    assert.equal(await version(), '3.1.1')
    await repo.commit('new verb', 'sem-ver: feature')
    assert.equal(await version(), '3.2.0')
    await repo.commit('break it', 'SEM-VER: API-Breaking')
    await repo.commit('fix')
    assert.equal(await version(), '4.0.1')
  })

  it('each breaking commit raises X again (every build is a possible release); a later X.Y tag resets', async () => {
    await repo.commit('base')
    await repo.tag('1.0')
    await repo.commit('break one', 'Sem-Ver: api-breaking')
    await repo.commit('break two', 'Sem-Ver: api-breaking')
    assert.equal(await version(), '3.0.0')
    await repo.tag('3.0')
    await repo.commits(2)
    assert.equal(await version(), '3.0.2')
  })

  it('without any X.Y tag (fresh CI clone), counts commits from the X.Y in lerna.json and warns', async () => {
    await repo.writeFile('lerna.json', JSON.stringify({version: '0.4.0'}))
    await repo.commits(5)
    const resolved = await resolveVersion(repo.dir, NO_PIN)
    assert.equal(formatVersion(resolved.version), '0.4.5')
    assert.match(resolved.warnings[0], /no X\.Y tag .* counting 5 commit\(s\) from 0\.4 \(lerna\.json\)\. For the real version: git fetch --tags$/)
  })

  it('a shallow clone without tags: the warning says to unshallow; the CLI still prints a version', async () => {
    await repo.writeFile('lerna.json', JSON.stringify({version: '0.4.0'}))
    await repo.commits(5)
    await repo.tag('0.4')
    const clone = path.join(tmp, 'clone')
    await execa('git', ['clone', '-q', '--depth', '1', '--no-tags', `file://${repo.dir}`, clone])
    const result = await execa(VERSION_MANAGER, ['--repo', clone, 'version'], {env: NO_PIN})
    assert.equal(result.stdout, '0.4.1')
    assert.match(result.stderr, /shallow clone: counting 1 commit\(s\) from 0\.4 .*git fetch --tags --unshallow/)
  })

  it('LAGO_VERSION pins the version; outside git, lerna.json is used', async () => {
    assert.equal(formatVersion((await resolveVersion(repo.dir, {LAGO_VERSION: '5.6.7'})).version), '5.6.7')
    await assert.rejects(resolveVersion(repo.dir, {LAGO_VERSION: '5.6'}), /LAGO_VERSION=5\.6 is not a version: expected X\.Y\.Z/)
    const plain = await mkdtemp(path.join(tmp, 'plain-'))
    await writeFile(path.join(plain, 'lerna.json'), JSON.stringify({version: '2.3.4'}))
    assert.equal(await version(plain), '2.3.4')
  })

  it('CLI: version, rpm-version (release 1), changelog [--since TAG]', async () => {
    await repo.commit('first')
    await repo.tag('1.0')
    await repo.commit('second')
    const third = await repo.commit('third: 100% done', 'Sem-Ver: api-breaking')
    const run = (args: string[]) => execa(VERSION_MANAGER, ['--repo', repo.dir, ...args], {env: NO_PIN}).then((r) => r.stdout)
    assert.equal(await run(['version']), '2.0.0')
    assert.equal(await run(['rpm-version']), '2.0.0-1')
    // Default: the current major series (what ChangeLog_2.0.txt holds).
    assert.equal(await run(['changelog']), `* Wed Nov 25 2026 Jane Doe <jane@example.org> - 2.0.0\n- ${third.slice(0, 8)}: third: 100% done`)
    const since = await run(['changelog', '--since', '1.0'])
    assert.match(since, /^\* Wed Nov 25 2026 Jane Doe <jane@example\.org> - 2\.0\.0\n- \w{8}: third: 100% done\n\n\* Wed Nov 25 2026 Jane Doe <jane@example\.org> - 1\.0\.1\n- \w{8}: second$/)
    assert.equal(changelogEntriesAfter(since + '\n', {major: 1, minor: 0, patch: 1}), `* Wed Nov 25 2026 Jane Doe <jane@example.org> - 2.0.0\n- ${third.slice(0, 8)}: third: 100% done\n`)
    const bad = await execa(VERSION_MANAGER, ['--repo', repo.dir, 'changelog', '--since', 'nope'], {env: NO_PIN, reject: false})
    assert.equal(bad.exitCode, 2)
    assert.match(bad.stderr, /--since nope: no such tag or commit/)
  })
})
