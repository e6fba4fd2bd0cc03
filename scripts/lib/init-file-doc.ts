// npm run docs:init-file: writes docs/init-file.md from the init file's JSON Schema
// (packages/core/schema/init-file.schema.json, made by the build). The schema gives names,
// types, allowed values and what is required; FIELD_NOTES below say what each field does.
import {readFile, writeFile} from 'node:fs/promises'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {main, ScriptError} from './cli.js'

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
export const SCHEMA_FILE = path.join(REPO, 'packages/core/schema/init-file.schema.json')
export const DOC_FILE = path.join(REPO, 'docs/init-file.md')

interface Schema {
  type?: string
  title?: string
  enum?: unknown[]
  const?: unknown
  pattern?: string
  format?: string
  minimum?: number
  maximum?: number
  minLength?: number
  minItems?: number
  minProperties?: number
  required?: string[]
  properties?: Record<string, Schema>
  additionalProperties?: Schema | boolean
  propertyNames?: Schema
  items?: Schema
  anyOf?: Schema[]
  allOf?: {if: {properties: Record<string, Schema>}; then: {required: string[]}}[]
}

/** What each field does, by its path in the schema (`*` for a name you choose). */
const FIELD_NOTES: Record<string, string> = {
  domains: "The VMs, by name. The name is the VM's hostname and what commands take (`lago shell NAME`).",
  nets: 'The networks, by name. Exactly one is the management net (a single net is it by default).',
  prototypes: 'Accepted for compatibility with original init files; not used.',
  'domains.*.memory': 'Memory: a number of MiB, or a size with a unit (`4G`, `512MiB`); 16 MiB to 4 TiB. Default 1024 MiB.',
  'domains.*.vcpu': 'Virtual CPUs. Default 2.',
  'domains.*.cpu_model': "A libvirt CPU model (`Skylake-Client`); default: host-passthrough under KVM, qemu's default under TCG.",
  'domains.*.nics': 'Network interfaces, in guest order (eth0 first). One must be on the management net.',
  'domains.*.disks': 'Disks, in order; the first one boots.',
  'domains.*.metadata': "Free-form data kept in the prefix's spec for plugins and scripts. A `deploy-scripts` list here counts as the field below, as in the original.",
  'domains.*.artifacts': 'Guest paths `lago collect` copies out.',
  'domains.*.groups': "Groups (a name or a list; letters, digits, `.`, `_`, `-`) for inventories such as Ansible's.",
  'domains.*.bootstrap': 'Write a cloud-init NoCloud seed (hostname, the prefix SSH key, static addresses). Default true; false for images that are already set up.',
  'domains.*.ssh-user': 'The user Lago logs in as. Default root.',
  'domains.*.ssh-password': 'A password SSH may use besides the prefix key (for images that do not take the key).',
  'domains.*.root-password': "The original's name for `ssh-password`, used when that is not given.",
  'domains.*.vm-type': 'The VM type: `default`; plugins may give types of their own a meaning. Default `default`.',
  'domains.*.vm-provider': 'The provider: only `local-libvirt` (the default).',
  'domains.*.service_provider': 'Accepted for compatibility with original init files; Lago asks the guest itself.',
  'domains.*.deploy-scripts': "Scripts `lago deploy` runs on the VM, in order. `$LAGO_INITFILE_PATH` is the init file's directory.",
  'domains.*.boot_time_sec': "How long `lago start` waits for this VM's SSH (default: the `ssh.boot_timeout` setting).",
  'domains.*.distro':
    "The distribution (`el8`, `fc30`, ...; letters, digits, `.`, `_`, `-`, no `..`: it names a directory); default: the template's metadata. `lago ovirt reposetup` syncs only the yum sections named `*-DISTRO` of the VMs' distros.",
  'domains.*.nics[].net': 'The net this NIC is on (a name under `nets`).',
  'domains.*.nics[].ip': "A static address inside the net's subnet: its last octet is kept when the subnet is leased. Default: the lowest free address from .2.",
  'domains.*.disks[].type': '`template`: a thin overlay on a template from the store; `file`: an existing image used in place; `empty`: a new blank disk.',
  'domains.*.disks[].name': "The disk's name in the prefix. Default `root` for the first disk, `diskN` after.",
  'domains.*.disks[].dev': 'Guest device: `vdX` (virtio) or `sdX` (on virtio-scsi). Default vda, vdb, ... by position.',
  'domains.*.disks[].format': 'Image format. Default qcow2 (iso for a `file` ending in .iso).',
  'domains.*.disks[].size': 'Size of an `empty` disk: bytes, or with a unit (`20G`); 1 MiB to 64 TiB.',
  'domains.*.disks[].template_name': 'Template: `name`, `name:version`, `repo:name:version`, an http(s) URL of an image, or a local image path (see docs/templates.md).',
  'domains.*.disks[].template_version': 'Template version, when not given in `template_name`. Default: the newest.',
  'domains.*.disks[].template_checksum': 'Checksum of a plain image URL or file (`sha256:HEX`, sha1 or sha512); checked after download.',
  'domains.*.disks[].template_type': 'Accepted for compatibility with original init files; the image format is detected.',
  'domains.*.disks[].path': 'The image of a `file` disk. `$VAR`s expand (`$LAGO_INITFILE_PATH/tools.iso`).',
  'domains.*.disks[].make_a_copy':
    'For a `file` disk: copy the image into the prefix (as the original did) instead of using it in place, so the environment never changes the file (what `lago export` writes). Default false.',
  'domains.*.disks[].metadata': 'Free-form data kept with the disk.',
  'domains.*.disks[].comment': 'A note for people; ignored.',
  'nets.*.type': '`nat`: reaches outside through the host; `bridge`: an isolated network. Default nat.',
  'nets.*.management': 'The net Lago reaches VMs over (SSH) and whose DNS knows every VM. Exactly one.',
  'nets.*.dhcp': 'The DHCP range (last octets), start <= end, not over the gateway. VMs get fixed addresses either way.',
  'nets.*.dhcp.start': 'First address of the range (last octet).',
  'nets.*.dhcp.end': 'Last address of the range (last octet).',
  'nets.*.dns_domain_name': 'DNS domain of the management net: VMs resolve as `vm.DOMAIN` too.',
  'nets.*.gw': 'A fixed subnet, given by its gateway (`192.168.1.1`). Default: a free /24 is leased.',
}

export function renderInitFileDoc(schema: Schema): string {
  const sections: string[] = []
  const walk = (title: string, at: string, object: Schema, intro: string) => {
    const rows = Object.entries(object.properties ?? {}).map(([name, field]) => {
      const fieldPath = at ? `${at}.${name}` : name
      return `| \`${name}\` | ${typeOf(field)} | ${requiredness(object, name)} | ${FIELD_NOTES[fieldPath] ?? '*(not described yet)*'} |`
    })
    sections.push(`## ${title}\n\n${intro}\n\n| field | value | required | what it does |\n| --- | --- | --- | --- |\n${rows.join('\n')}\n`)
    for (const [name, field] of Object.entries(object.properties ?? {})) {
      const fieldPath = at ? `${at}.${name}` : name
      const named = typeof field.additionalProperties === 'object' ? field.additionalProperties : undefined
      if (named?.properties) walk(`\`${fieldPath}.NAME\``, `${fieldPath}.*`, named, `Each entry of \`${fieldPath}\`; NAME ${typeOf(field.propertyNames ?? {}).replace(/^string /, '')}.`)
      else if (field.items?.properties) walk(`\`${fieldPath}[]\``, `${fieldPath}[]`, field.items, `Each item of \`${fieldPath}\`.`)
      else if (field.properties) walk(`\`${fieldPath}\``, fieldPath, field, `The fields of \`${fieldPath}\`.`)
    }
  }
  walk(
    'Top level',
    '',
    schema,
    "An init file is YAML or JSON (`LagoInitFile` by default). `$VAR` and `${VAR}` expand from the environment in paths and scripts, plus `LAGO_INITFILE_PATH` (the init file's directory). Every error names the file, the field and what would be valid. Limits: at most 1 MiB, 32 levels of nesting and 100 YAML alias expansions; no control characters in any string (tabs and line breaks only in `comment` and free `metadata` values).",
  )
  return `# Init file reference

<!-- Generated by \`npm run docs:init-file\` from packages/core/schema/init-file.schema.json (${schema.title}). Do not edit: change the schema or FIELD_NOTES in scripts/lib/init-file-doc.ts. -->

Every field Lago accepts, from the init file's JSON Schema (shipped as
\`@lago/core/schema/init-file.schema.json\`: point your editor's YAML/JSON schema support at it).
Worked examples: [environments.md](environments.md) and \`examples/\`.

${sections.join('\n')}`
}

function typeOf(schema: Schema): string {
  if (schema.anyOf) return schema.anyOf.map(typeOf).join(', or ')
  if (schema.enum) return `one of ${schema.enum.map((v) => `\`${String(v)}\``).join(', ')}`
  switch (schema.type) {
    case 'integer':
      return `integer${range(schema)}`
    case 'string':
      if (schema.format === 'ipv4') return 'IPv4 address'
      if (schema.pattern) return `string matching \`${schema.pattern.replaceAll('|', '\\|')}\``
      return schema.minLength ? 'non-empty string' : 'string'
    case 'array':
      return `list of ${typeOf(schema.items ?? {})}${schema.items?.properties ? ' objects' : ''}${schema.minItems ? ` (at least ${schema.minItems})` : ''}`.replace(
        'list of object objects',
        'list of objects',
      )
    case 'object':
      if (typeof schema.additionalProperties === 'object') return `map of NAME → object${schema.minProperties ? ` (at least ${schema.minProperties})` : ''}`
      return 'object'
    default:
      return schema.type ?? 'any'
  }
}

function range(schema: Schema): string {
  if (schema.minimum !== undefined && schema.maximum !== undefined) return ` ${schema.minimum}–${schema.maximum}`
  if (schema.minimum !== undefined) return ` ≥ ${schema.minimum}`
  return ''
}

function requiredness(object: Schema, name: string): string {
  if (object.required?.includes(name)) return 'yes'
  const when = (object.allOf ?? []).filter((rule) => rule.then.required.includes(name)).flatMap((rule) => Object.entries(rule.if.properties).map(([field, s]) => `\`${field}: ${String(s.const)}\``))
  return when.length > 0 ? `with ${when.join(', ')}` : ''
}

export async function readSchema(): Promise<Schema> {
  const text = await readFile(SCHEMA_FILE, 'utf8').catch(() => {
    throw new ScriptError(`${path.relative(REPO, SCHEMA_FILE)} is missing: run npm run build first`)
  })
  return JSON.parse(text) as Schema
}

async function writeDoc(): Promise<string> {
  await writeFile(DOC_FILE, renderInitFileDoc(await readSchema()))
  return `wrote ${path.relative(process.cwd(), DOC_FILE)}`
}

if (import.meta.url === `file://${process.argv[1]}`) await main(writeDoc, 'init-file-doc')
