import assert from 'node:assert/strict'
import {mkdtemp, writeFile} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import {isLagoError, loadTemplateRepo, resolveTemplate} from '@lago/core'

describe('template repositories', () => {
  let file: string
  before(async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'lago-repo-'))
    file = path.join(dir, 'repo.json')
    await writeFile(
      file,
      JSON.stringify({
        name: 'r',
        sources: {s: {type: 'file', args: {root: dir}}},
        templates: {el: {versions: {v1: {source: 's', handle: 'a', timestamp: 10}, v2: {source: 's', handle: 'b', timestamp: 20}}}},
      }),
    )
  })

  it('resolves name (newest), name:version and repo:name:version', async () => {
    const repo = await loadTemplateRepo(file)
    assert.equal(resolveTemplate(repo, 'el').id, 'r:el:v2')
    assert.equal(resolveTemplate(repo, 'el:v1').id, 'r:el:v1')
    assert.equal(resolveTemplate(repo, 'r:el:v1').entry.handle, 'a')
    assert.equal(resolveTemplate(repo, 'el', 'v1').id, 'r:el:v1')
  })

  it('names what is wrong in a broken repository', async () => {
    await writeFile(file + '.bad', JSON.stringify({name: 'r', sources: {}, templates: {el: {versions: {v1: {source: 'nope', handle: 'a', timestamp: 1}}}}}))
    await assert.rejects(loadTemplateRepo(file + '.bad'), /templates\.el\.versions\.v1\.source "nope" is not one of its sources/)
    await writeFile(file + '.bad2', JSON.stringify({name: 'r', templates: {}}))
    await assert.rejects(loadTemplateRepo(file + '.bad2'), /sources: is required/)
  })

  it('names the other repository in repo:name:version', async () => {
    const repo = await loadTemplateRepo(file)
    assert.throws(
      () => resolveTemplate(repo, 'other:el:v1'),
      (error: unknown) => isLagoError(error) && /names repository "other"/.test(error.message),
    )
  })
})
