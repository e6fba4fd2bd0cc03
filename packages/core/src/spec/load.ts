import {readFile} from 'node:fs/promises'
import path from 'node:path'
import {LagoError} from '../errors.js'
import {log} from '../log.js'
import {INIT_FILE_SCHEMA} from './schema.js'
import type {DiskFormat, DiskSpec, DomainSpec, EnvironmentSpec, NetSpec} from './types.js'
import {parseSize} from '../util/size.js'
import {schemaValidator, type SchemaSpec} from '../util/validators.js'

export const DEFAULT_INIT_FILE = 'LagoInitFile'
const DEFAULT_MEMORY_MIB = 1024
const DEFAULT_VCPU = 2

/** Read, validate and normalize an init file (YAML or JSON). */
/** Defaults for what a VM does not say: its SSH user ([ssh] user, the original's --ssh-user). */
export interface SpecDefaults {
  sshUser?: string
}

export async function loadInitFile(file: string, env: NodeJS.ProcessEnv = process.env, defaults: SpecDefaults = {}): Promise<EnvironmentSpec> {
  const source = path.resolve(file)
  let text: string
  try {
    text = await readFile(source, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    throw new LagoError(
      'INIT_FILE',
      code === 'ENOENT' ? `Init file ${source} does not exist.` : `Cannot read init file ${source}: ${code ?? error}.`,
      {hint: 'Give the path of a YAML or JSON init file (default: ./LagoInitFile).', detail: {file: source}},
    )
  }
  return parseInitFile(text, source, env, defaults)
}

export async function parseInitFile(text: string, source: string, env: NodeJS.ProcessEnv = process.env, defaults: SpecDefaults = {}): Promise<EnvironmentSpec> {
  const raw = await parseDocument(text, source)
  await validate(raw, source)
  const vars = {...env, LAGO_INITFILE_PATH: path.dirname(source)}
  return normalize(raw as RawInitFile, source, vars, defaults)
}

async function parseDocument(text: string, source: string): Promise<unknown> {
  const YAML = await import('yaml')
  const doc = YAML.parseDocument(text, {prettyErrors: true, uniqueKeys: true, merge: true})
  if (doc.errors.length > 0) {
    const first = doc.errors[0]
    const where = first.linePos?.[0] ? `line ${first.linePos[0].line}, column ${first.linePos[0].col}` : 'unknown position'
    throw new LagoError('INIT_FILE', `${source}: not valid YAML or JSON at ${where}: ${first.message.split('\n')[0]}`, {
      detail: {file: source},
    })
  }
  const value = doc.toJS({maxAliasCount: 1000})
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new LagoError('INIT_FILE', `${source}: the init file must be a mapping with "domains" and "nets".`, {
      detail: {file: source},
    })
  }
  return value
}

export const INIT_FILE_SCHEMA_SPEC: SchemaSpec = {name: 'init-file', schema: INIT_FILE_SCHEMA, options: {verbose: true, formats: true}}

async function validate(raw: unknown, source: string): Promise<void> {
  const validator = await schemaValidator(INIT_FILE_SCHEMA_SPEC)
  if (validator(raw)) return
  const problems = describeSchemaErrors(validator.errors ?? [])
  throw new LagoError('INIT_FILE', `${source} is not a valid init file:\n${problems.map((p) => `  - ${p}`).join('\n')}`, {
    detail: {file: source, problems},
  })
}

/** ajv errors → "domains.vm0.nics[1].net: must be ..." lines, the most specific first. */
export function describeSchemaErrors(errors: import('ajv').ErrorObject[]): string[] {
  const lines: string[] = []
  for (const error of errors) {
    if (error.keyword === 'if' || error.keyword === 'anyOf') continue
    let where = jsonPointerToPath(error.instancePath)
    let what = error.message ?? 'is invalid'
    const params = error.params as Record<string, unknown>
    if (error.keyword === 'additionalProperties') {
      where = joinPath(where, String(params.additionalProperty))
      what = 'is not a known field'
    } else if (error.keyword === 'required') {
      where = joinPath(where, String(params.missingProperty))
      what = 'is required'
    } else if (error.keyword === 'enum') {
      what = `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`
    } else if (error.keyword === 'propertyNames') {
      continue // reported by the pattern error on the name itself
    } else if (error.keyword === 'pattern' && error.propertyName !== undefined) {
      where = joinPath(where, error.propertyName)
      what = `is not a valid name (letters, digits and "-"; ${describePattern(error.schemaPath)})`
    } else if (error.keyword === 'pattern') {
      what = `must match ${String(params.pattern)}`
    } else if (error.keyword === 'format') {
      what = `"${String(jsonValueAt(error))}" is not a valid ${String(params.format)} address`
    } else if (error.keyword === 'type' && error.schemaPath.includes('anyOf')) {
      continue
    }
    const line = `${where || '(top level)'}: ${what}`
    if (!lines.includes(line)) lines.push(line)
  }
  return lines
}

function jsonValueAt(error: import('ajv').ErrorObject): unknown {
  return (error as {data?: unknown}).data
}

function describePattern(schemaPath: string): string {
  return schemaPath.includes('nets') ? 'at most 32 characters, "_" allowed' : 'at most 63 characters, no leading or trailing "-"'
}

function jsonPointerToPath(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce(joinPath, '')
}

function joinPath(base: string, part: string): string {
  if (/^\d+$/.test(part)) return `${base}[${part}]`
  if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(part)) return base ? `${base}.${part}` : part
  return `${base}[${JSON.stringify(part)}]`
}

interface RawInitFile {
  domains: Record<string, RawDomain>
  nets: Record<string, RawNet>
}
type RawDomain = Record<string, unknown> & {nics: {net: string; ip?: string}[]; disks: Record<string, unknown>[]}
type RawNet = Record<string, unknown>

function normalize(raw: RawInitFile, source: string, vars: NodeJS.ProcessEnv, defaults: SpecDefaults): EnvironmentSpec {
  const problems: string[] = []
  const nets = Object.entries(raw.nets).map(([name, net]) => normalizeNet(name, net))
  const managementNets = nets.filter((n) => n.management)
  if (managementNets.length === 0 && nets.length === 1) nets[0].management = true
  else if (managementNets.length !== 1) {
    problems.push(
      `nets: exactly one net must have "management: true" (found ${managementNets.length === 0 ? 'none' : managementNets.map((n) => n.name).join(', ')})`,
    )
  }
  const netNames = new Set(nets.map((n) => n.name))
  const domains = Object.entries(raw.domains).map(([name, d]) => normalizeDomain(name, d, vars, problems, defaults))
  const seenAddresses = new Map<string, string>()
  for (const domain of domains) {
    domain.nics.forEach((nic, i) => {
      if (!netNames.has(nic.net)) {
        problems.push(`domains.${domain.name}.nics[${i}].net: "${nic.net}" is not a net of this file (nets: ${[...netNames].join(', ')})`)
      }
    })
    checkStaticAddresses(domain, nets, seenAddresses, problems)
    const mgmt = nets.find((n) => n.management)
    if (mgmt && !domain.nics.some((nic) => nic.net === mgmt.name)) {
      problems.push(`domains.${domain.name}.nics: needs a NIC on the management net "${mgmt.name}" (Lago reaches VMs over it)`)
    }
    const devs = new Set<string>()
    domain.disks.forEach((disk, i) => {
      if (devs.has(disk.dev)) problems.push(`domains.${domain.name}.disks[${i}].dev: "${disk.dev}" is used by another disk of this VM`)
      devs.add(disk.dev)
    })
    if (domain.disks[0] && domain.disks[0].type === 'empty') {
      problems.push(`domains.${domain.name}.disks[0]: the first disk is the boot disk and cannot be "empty"`)
    }
  }
  if (problems.length > 0) {
    throw new LagoError('INIT_FILE', `${source} is not a valid init file:\n${problems.map((p) => `  - ${p}`).join('\n')}`, {
      detail: {file: source, problems},
    })
  }
  return {source, domains, nets}
}

/**
 * A static address keeps its last octet; on a net with a fixed `gw` it must lie in that
 * /24, on a leased net it is moved into the leased subnet. Two NICs may not share one.
 */
function checkStaticAddresses(domain: DomainSpec, nets: NetSpec[], seen: Map<string, string>, problems: string[]): void {
  domain.nics.forEach((nic, i) => {
    if (!nic.ip) return
    const where = `domains.${domain.name}.nics[${i}].ip`
    const net = nets.find((n) => n.name === nic.net)
    if (!net) return
    const octet = Number(nic.ip.split('.')[3])
    if (octet < 2 || octet > 254) {
      problems.push(`${where}: "${nic.ip}" ends in .${octet}; usable host addresses end in .2 to .254 (.1 is the gateway)`)
      return
    }
    if (net.gw && subnetOf(net.gw) !== subnetOf(nic.ip)) {
      problems.push(`${where}: "${nic.ip}" is outside net ${net.name} (${subnetOf(net.gw)}.0/24, from its gw ${net.gw})`)
      return
    }
    if (net.gw && net.gw === nic.ip) problems.push(`${where}: "${nic.ip}" is the gateway of net ${net.name}`)
    const key = `${net.name}/${octet}`
    const other = seen.get(key)
    if (other) problems.push(`${where}: "${nic.ip}" collides with ${other} on net ${net.name}`)
    else seen.set(key, where)
  })
}

function subnetOf(ip: string): string {
  return ip.split('.').slice(0, 3).join('.')
}

function normalizeNet(name: string, net: RawNet): NetSpec {
  return {
    name,
    type: (net.type as NetSpec['type']) ?? 'nat',
    management: net.management === true,
    dhcp: net.dhcp as NetSpec['dhcp'],
    dnsDomainName: net.dns_domain_name as string | undefined,
    gw: net.gw as string | undefined,
  }
}

function normalizeDomain(name: string, d: RawDomain, vars: NodeJS.ProcessEnv, problems: string[], defaults: SpecDefaults): DomainSpec {
  const where = `domains.${name}`
  const memory = d.memory === undefined ? DEFAULT_MEMORY_MIB : toMiB(d.memory, `${where}.memory`, problems)
  const groups = typeof d.groups === 'string' ? [d.groups] : ((d.groups as string[] | undefined) ?? [])
  const metadata = (d.metadata as Record<string, unknown> | undefined) ?? {}
  const legacy = metadata['ovirt-scripts'] as string[] | undefined
  if (legacy) log.warn(`${where}.metadata.ovirt-scripts is deprecated: use ${where}.deploy-scripts`)
  const scripts = (d['deploy-scripts'] as string[] | undefined) ?? (metadata['deploy-scripts'] as string[] | undefined) ?? legacy ?? []
  return {
    name,
    memory,
    vcpu: (d.vcpu as number | undefined) ?? DEFAULT_VCPU,
    cpuModel: d.cpu_model as string | undefined,
    nics: d.nics.map((nic) => ({net: nic.net, ip: nic.ip})),
    disks: d.disks.map((disk, i) => normalizeDisk(disk, i, `${where}.disks[${i}]`, vars, problems)),
    metadata,
    artifacts: (d.artifacts as string[] | undefined) ?? [],
    groups,
    bootstrap: (d.bootstrap as boolean | undefined) ?? true,
    sshUser: (d['ssh-user'] as string | undefined) ?? defaults.sshUser ?? 'root',
    sshPassword: (d['ssh-password'] as string | undefined) ?? (d['root-password'] as string | undefined),
    vmType: (d['vm-type'] as string | undefined) ?? legacyVmType(metadata, where),
    serviceProvider: d.service_provider as string | undefined,
    // Relative to the init file, like disk paths: an init file and its scripts move together.
    deployScripts: scripts.map((s, i) => path.resolve(vars.LAGO_INITFILE_PATH!, expandVars(s, vars, `${where}.deploy-scripts[${i}]`, problems))),
    bootTimeout: d.boot_time_sec as number | undefined,
  }
}

/** The 2015 metadata `ovirt-role` (engine, host, node) names a VM type, as the oVirt plugin mapped it. */
function legacyVmType(metadata: Record<string, unknown>, where: string): string {
  const role = metadata['ovirt-role']
  if (typeof role !== 'string' || !role) return 'default'
  log.warn(`${where}.metadata.ovirt-role is deprecated: use ${where}.vm-type: ovirt-${role}`)
  return `ovirt-${role}`
}

function normalizeDisk(
  disk: Record<string, unknown>,
  index: number,
  where: string,
  vars: NodeJS.ProcessEnv,
  problems: string[],
): DiskSpec {
  const type = disk.type as DiskSpec['type']
  const path = disk.path === undefined ? undefined : expandVars(String(disk.path), vars, `${where}.path`, problems)
  const defaultFormat: DiskFormat = type === 'empty' ? 'qcow2' : path?.endsWith('.iso') ? 'iso' : 'qcow2'
  return {
    type,
    name: (disk.name as string | undefined) ?? (index === 0 ? 'root' : `disk${index}`),
    dev: (disk.dev as string | undefined) ?? `vd${String.fromCharCode(97 + index)}`,
    format: (disk.format as DiskFormat | undefined) ?? defaultFormat,
    size: disk.size === undefined ? undefined : parseSizeOrReport(disk.size, `${where}.size`, problems),
    templateName: disk.template_name as string | undefined,
    templateVersion: disk.template_version as string | undefined,
    ...(disk.template_checksum === undefined ? {} : {templateChecksum: String(disk.template_checksum)}),
    path,
    ...(disk.make_a_copy === true ? {makeACopy: true} : {}),
  }
}

function toMiB(value: unknown, where: string, problems: string[]): number {
  // A bare number means MiB, as in the original; a string may carry a unit.
  if (typeof value === 'number') return value
  const bytes = parseSizeOrReport(value, where, problems, 'M')
  return Math.max(1, Math.round(bytes / 1024 / 1024))
}

function parseSizeOrReport(value: unknown, where: string, problems: string[], defaultUnit = ''): number {
  try {
    return parseSize(value as string | number, defaultUnit)
  } catch (error) {
    problems.push(`${where}: ${(error as Error).message}`)
    return 0
  }
}

/** $VAR and ${VAR} from the environment; an unset variable is an error naming the field. */
export function expandVars(text: string, vars: NodeJS.ProcessEnv, where: string, problems: string[]): string {
  return text.replace(/\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g, (match, braced, bare) => {
    const name = (braced ?? bare) as string
    const value = vars[name]
    if (value === undefined) {
      problems.push(`${where}: "${match}" names an environment variable that is not set`)
      return match
    }
    return value
  })
}
