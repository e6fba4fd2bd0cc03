import assert from 'node:assert/strict'
import {readFile} from 'node:fs/promises'
import {DOC_FILE, readSchema, renderInitFileDoc} from '../../scripts/lib/init-file-doc.js'

describe('docs/init-file.md', () => {
  it('is what the init file schema generates (after a schema change: npm run docs:init-file)', async () => {
    const expected = renderInitFileDoc(await readSchema())
    assert.ok((await readFile(DOC_FILE, 'utf8')) === expected, 'docs/init-file.md is stale: run "npm run docs:init-file" and commit it')
  })

  it('describes every field of the schema', async () => {
    assert.doesNotMatch(renderInitFileDoc(await readSchema()), /not described yet/, 'add the new field to FIELD_NOTES in scripts/lib/init-file-doc.ts')
  })
})
