// Publishes the init-file JSON Schema as a file (packages/core/schema/init-file.schema.json)
// for editors and other tools; run after tsc.
import {mkdirSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {INIT_FILE_SCHEMA} from '../lib/spec/schema.js'

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)))
mkdirSync(path.join(root, 'schema'), {recursive: true})
const schema = {$schema: 'http://json-schema.org/draft-07/schema#', ...INIT_FILE_SCHEMA}
writeFileSync(path.join(root, 'schema/init-file.schema.json'), JSON.stringify(schema, null, 2) + '\n')
