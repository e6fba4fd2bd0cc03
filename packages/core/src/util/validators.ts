import type {ErrorObject} from 'ajv'

export type Validator = ((data: unknown) => boolean) & {errors?: ErrorObject[] | null}

/** The schemas the build compiles ahead of time (scripts/write-schema.mjs), by module name. */
export interface SchemaSpec {
  name: 'init-file' | 'template-repo'
  schema: object
  /** ajv options; the build uses the same ones. */
  options: {verbose?: boolean; formats?: boolean}
}

const loaded = new Map<string, Validator>()

/**
 * The validator for a schema: the build's precompiled module (ajv standalone code, no
 * compile at start-up), or compiled now when running from an unbuilt tree.
 */
export async function schemaValidator(spec: SchemaSpec): Promise<Validator> {
  let validator = loaded.get(spec.name)
  if (validator) return validator
  try {
    const module = (await import(new URL(`../validators/${spec.name}.js`, import.meta.url).href)) as {default: Validator}
    validator = module.default
  } catch {
    validator = await compileValidator(spec)
  }
  loaded.set(spec.name, validator)
  return validator
}

async function compileValidator(spec: SchemaSpec): Promise<Validator> {
  return (await schemaCompiler(spec)).compile(spec.schema) as Validator
}

/** The ajv instance a schema is compiled with; `code` is for the build's standalone output. */
export async function schemaCompiler(spec: SchemaSpec, code?: {source: boolean; esm: boolean}): Promise<import('ajv').Ajv> {
  const {Ajv} = await import('ajv')
  const ajv = new Ajv({allErrors: true, strict: false, verbose: spec.options.verbose ?? false, ...(code ? {code} : {})})
  if (spec.options.formats) {
    const addFormats = (await import('ajv-formats')).default as unknown as (instance: InstanceType<typeof Ajv>) => void
    addFormats(ajv)
  }
  return ajv
}
