// Build step after tsc:
//  - publishes the init-file JSON Schema (schema/init-file.schema.json) for editors and tools;
//  - compiles the init-file and template-repository validators ahead of time (ajv standalone
//    ESM modules in lib/validators/), so no command pays for schema compilation at start-up.
import {mkdirSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import standaloneCode from 'ajv/dist/standalone/index.js'
import {INIT_FILE_SCHEMA} from '../lib/spec/schema.js'
import {INIT_FILE_SCHEMA_SPEC} from '../lib/spec/load.js'
import {TEMPLATE_REPO_SCHEMA_SPEC} from '../lib/templates/repo.js'
import {schemaCompiler} from '../lib/util/validators.js'

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)))
mkdirSync(path.join(root, 'schema'), {recursive: true})
const schema = {$schema: 'http://json-schema.org/draft-07/schema#', ...INIT_FILE_SCHEMA}
writeFileSync(path.join(root, 'schema/init-file.schema.json'), JSON.stringify(schema, null, 2) + '\n')

mkdirSync(path.join(root, 'lib/validators'), {recursive: true})
for (const spec of [INIT_FILE_SCHEMA_SPEC, TEMPLATE_REPO_SCHEMA_SPEC]) {
  const ajv = await schemaCompiler(spec, {source: true, esm: true})
  // ajv's ESM output still require()s a few runtime helpers (ucs2length): give it a require.
  const code = standaloneCode.default(ajv, ajv.compile(spec.schema)).replace(/^"use strict";/, '')
  const header = `import {createRequire} from 'node:module';const require = createRequire(import.meta.url);`
  writeFileSync(path.join(root, `lib/validators/${spec.name}.js`), header + code)
}
