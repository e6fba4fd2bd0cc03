import assert from 'node:assert/strict'
import {readFile} from 'node:fs/promises'
import path from 'node:path'
import {Ajv} from 'ajv'
import addFormats from 'ajv-formats'
import {REPO_ROOT} from './harness.js'

/** Asserts that an event matches the documented schema (docs/events.schema.json). */
export async function eventValidator(): Promise<(event: unknown) => void> {
  const schema = JSON.parse(await readFile(path.join(REPO_ROOT, 'docs/events.schema.json'), 'utf8')) as object
  const ajv = new Ajv({allErrors: true, strict: false})
  ;(addFormats as unknown as (a: Ajv) => void)(ajv)
  const validate = ajv.compile(schema)
  return (event) => assert.ok(validate(event), `${JSON.stringify(event)}\n${ajv.errorsText(validate.errors)}`)
}
