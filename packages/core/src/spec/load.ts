import {open} from 'node:fs/promises'
import path from 'node:path'
import {LagoError, type LagoErrorOptions} from '../errors.js'
import {log} from '../log.js'
import {INIT_FILE_SCHEMA} from './schema.js'
import {checkRawStrings, joinPath, LIMITS, textNesting, type Bounds} from './limits.js'
import type {DiskFormat, DiskSpec, DomainSpec, EnvironmentSpec, NetSpec} from './types.js'
import {isSafeName} from '../util/safe-path.js'
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
    text = await readLimited(source, LIMITS.initFileBytes)
  } catch (error) {
    if (error instanceof LagoError) throw error
    const code = (error as NodeJS.ErrnoException).code
    throw new LagoError('INIT_FILE', code === 'ENOENT' ? `Init file ${source} does not exist.` : `Cannot read init file ${source}: ${code ?? error}.`, {
      hint: 'Give the path of a YAML or JSON init file (default: ./LagoInitFile).',
      detail: {file: source, code},
    })
  }
  return parseInitFile(text, source, env, defaults)
}

/**
 * The golden environment an init file names instead of describing VMs (`golden: NAME[:VERSION]`
 * and nothing else), if it does. A file that cannot be read is left to loadInitFile to report.
 */
export async function initFileGolden(file: string): Promise<string | undefined> {
  const source = path.resolve(file)
  const text = await readLimited(source, LIMITS.initFileBytes).catch(() => undefined)
  if (text === undefined || textNesting(text) > LIMITS.depth) return undefined
  const raw = await parseDocument(text, source).catch(() => undefined)
  if (!raw || typeof raw !== 'object' || Array.isArray(raw) || !('golden' in raw)) return undefined
  const {golden, ...rest} = raw as Record<string, unknown>
  if (typeof golden !== 'string' || Object.keys(rest).length > 0) {
    throw new LagoError(
      'INIT_FILE',
      `${source}: "golden" must be a golden environment's NAME or NAME:VERSION (a string), and then the file holds nothing else (found: ${Object.keys(rest).join(', ') || typeof golden}).`,
      {
        hint: 'A copy of a golden environment takes its VMs and nets from it: write only "golden: NAME:VERSION", or describe the VMs and nets without "golden".',
        detail: {file: source, field: 'golden'},
      },
    )
  }
  return golden
}

/** The text of `file`, refused (before reading it all) when it holds more than `limit` bytes. */
async function readLimited(file: string, limit: number): Promise<string> {
  const handle = await open(file, 'r')
  try {
    const info = await handle.stat()
    if (!info.isFile()) throw Object.assign(new Error('not a regular file'), {code: info.isDirectory() ? 'EISDIR' : 'EINVAL'})
    const buffer = Buffer.alloc(limit + 1)
    let length = 0
    for (;;) {
      const {bytesRead} = await handle.read(buffer, length, buffer.length - length, length)
      if (bytesRead === 0) break
      length += bytesRead
      if (length > limit) throw tooLarge(file)
    }
    return buffer.subarray(0, length).toString('utf8')
  } finally {
    await handle.close()
  }
}

function tooLarge(source: string): LagoError {
  return new LagoError('INIT_FILE', `${source}: the init file is larger than ${LIMITS.initFileBytes / 1024 / 1024} MiB; init files describe VMs and nets, not data.`, {
    detail: {file: source, limit: LIMITS.initFileBytes},
  })
}

function tooDeep(source: string): LagoError {
  return new LagoError('INIT_FILE', `${source}: the init file nests too deeply (at most ${LIMITS.depth} levels).`, {detail: {file: source}})
}

export async function parseInitFile(text: string, source: string, env: NodeJS.ProcessEnv = process.env, defaults: SpecDefaults = {}): Promise<EnvironmentSpec> {
  if (Buffer.byteLength(text) > LIMITS.initFileBytes) throw tooLarge(source)
  if (textNesting(text) > LIMITS.depth) throw tooDeep(source)
  const raw = await parseDocument(text, source)
  await validate(raw, source)
  const vars = {...env, LAGO_INITFILE_PATH: path.dirname(source)}
  return normalize(raw as RawInitFile, source, vars, defaults)
}

async function parseDocument(text: string, source: string): Promise<unknown> {
  const YAML = await import('yaml')
  let value: unknown
  try {
    const doc = YAML.parseDocument(text, {prettyErrors: true, uniqueKeys: true, merge: true})
    if (doc.errors.length > 0) {
      const first = doc.errors[0]
      const where = first.linePos?.[0] ? `line ${first.linePos[0].line}, column ${first.linePos[0].col}` : 'unknown position'
      throw new LagoError('INIT_FILE', `${source}: not valid YAML or JSON at ${where}: ${first.message.split('\n')[0]}`, {
        detail: {file: source},
      })
    }
    value = doc.toJS({maxAliasCount: LIMITS.yamlAliases})
  } catch (error) {
    if (error instanceof LagoError) throw error
    // yaml throws a ReferenceError for alias bombs; deep nesting overflows the stack.
    if (error instanceof RangeError) throw tooDeep(source)
    throw new LagoError('INIT_FILE', `${source}: the init file uses YAML aliases too often (at most ${LIMITS.yamlAliases} expansions).`, {detail: {file: source}})
  }
  if (depthOf(value, LIMITS.depth + 1) > LIMITS.depth) throw tooDeep(source)
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new LagoError('INIT_FILE', `${source}: the init file must be a mapping with "domains" and "nets".`, {
      detail: {file: source},
    })
  }
  return value
}

export const INIT_FILE_SCHEMA_SPEC: SchemaSpec = {name: 'init-file', schema: INIT_FILE_SCHEMA, options: {verbose: true, formats: true}}

/** How deep `value` nests (a scalar is 0), counting no further than `stop`. */
function depthOf(value: unknown, stop: number): number {
  if (value === null || typeof value !== 'object' || stop === 0) return 0
  let deepest = 0
  for (const child of Object.values(value)) deepest = Math.max(deepest, depthOf(child, stop - 1))
  return deepest + 1
}

async function validate(raw: unknown, source: string): Promise<void> {
  const validator = await schemaValidator(INIT_FILE_SCHEMA_SPEC)
  const problems = checkRawStrings(raw)
  if (!validator(raw)) problems.push(...describeSchemaErrors(validator.errors ?? []))
  if (problems.length > 0) throw initFileError(source, firstPerField(problems))
}

/** One problem per field ("field: what"), the first found: a control character hides the pattern it also breaks. */
function firstPerField(problems: string[]): string[] {
  const seen = new Set<string>()
  return problems.filter((problem) => {
    const field = problem.slice(0, problem.indexOf(': '))
    if (seen.has(field)) return false
    seen.add(field)
    return true
  })
}

/**
 * The error for an init file's problems: one line ("FILE: field: what is wrong") for one
 * problem, a list under the file name for several.
 */
export function initFileError(source: string, problems: string[], options: LagoErrorOptions = {}): LagoError {
  const message = problems.length === 1 ? `${source}: ${problems[0]}` : `${source} is not a valid init file:\n${problems.map((p) => `  - ${p}`).join('\n')}`
  return new LagoError('INIT_FILE', message, {...options, detail: {file: source, problems, ...options.detail}})
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
    problems.push(`nets: exactly one net must have "management: true" (found ${managementNets.length === 0 ? 'none' : managementNets.map((n) => n.name).join(', ')})`)
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
  checkNets(nets, problems)
  if (problems.length > 0) throw initFileError(source, problems)
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

/** DHCP ranges run forward and leave the gateway out; two nets with a fixed gw never share a /24. */
function checkNets(nets: NetSpec[], problems: string[]): void {
  const fixed = new Map<string, string>()
  for (const net of nets) {
    const where = `nets.${net.name}`
    if (net.dhcp && net.dhcp.start > net.dhcp.end) {
      problems.push(`${where}.dhcp: start .${net.dhcp.start} is after end .${net.dhcp.end}; give start <= end`)
    }
    const gwOctet = net.gw ? Number(net.gw.split('.')[3]) : 1
    if (net.dhcp && gwOctet >= net.dhcp.start && gwOctet <= net.dhcp.end) {
      problems.push(`${where}.dhcp: the range .${net.dhcp.start}-.${net.dhcp.end} includes the gateway .${gwOctet}; start it after the gateway`)
    }
    if (!net.gw) continue
    if (gwOctet < 1 || gwOctet > 254) problems.push(`${where}.gw: "${net.gw}" ends in .${gwOctet}; a gateway ends in .1 to .254`)
    const other = fixed.get(subnetOf(net.gw))
    if (other) problems.push(`${where}.gw: "${net.gw}" is in the same /24 as net ${other}; each net needs its own subnet`)
    else fixed.set(subnetOf(net.gw), net.name)
  }
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
  const memory = d.memory === undefined ? DEFAULT_MEMORY_MIB : bounded(toMiB(d.memory, `${where}.memory`, problems), LIMITS.memoryMiB, `${where}.memory`, problems)
  const groups = typeof d.groups === 'string' ? [d.groups] : ((d.groups as string[] | undefined) ?? [])
  const metadata = (d.metadata as Record<string, unknown> | undefined) ?? {}
  const legacy = stringListAt(metadata, 'ovirt-scripts', `${where}.metadata`, problems)
  if (legacy) log.warn(`${where}.metadata.ovirt-scripts is deprecated: use ${where}.deploy-scripts`)
  const scripts = (d['deploy-scripts'] as string[] | undefined) ?? stringListAt(metadata, 'deploy-scripts', `${where}.metadata`, problems) ?? legacy ?? []
  // Plugins read other script lists from metadata (e.g. "setup-scripts"): the same shape for all.
  for (const key of Object.keys(metadata).filter((k) => k.endsWith('-scripts') && k !== 'deploy-scripts' && k !== 'ovirt-scripts')) {
    stringListAt(metadata, key, `${where}.metadata`, problems)
  }
  for (const [field, distro] of [
    ['distro', d.distro],
    ['metadata.distro', metadata.distro],
  ] as const) {
    if (distro !== undefined && !isSafeName(distro)) {
      problems.push(`${where}.${field}: ${JSON.stringify(distro)} is not a valid distro name (letters, digits, ".", "_", "-"; no "..")`)
    }
  }
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

function normalizeDisk(disk: Record<string, unknown>, index: number, where: string, vars: NodeJS.ProcessEnv, problems: string[]): DiskSpec {
  const type = disk.type as DiskSpec['type']
  const path = disk.path === undefined ? undefined : expandVars(String(disk.path), vars, `${where}.path`, problems)
  const defaultFormat: DiskFormat = type === 'empty' ? 'qcow2' : path?.endsWith('.iso') ? 'iso' : 'qcow2'
  return {
    type,
    name: (disk.name as string | undefined) ?? (index === 0 ? 'root' : `disk${index}`),
    dev: (disk.dev as string | undefined) ?? `vd${String.fromCharCode(97 + index)}`,
    format: (disk.format as DiskFormat | undefined) ?? defaultFormat,
    size: disk.size === undefined ? undefined : bounded(parseSizeOrReport(disk.size, `${where}.size`, problems), LIMITS.diskBytes, `${where}.size`, problems),
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

/** A list of non-empty strings at `metadata[key]`, or a problem naming the field. */
function stringListAt(metadata: Record<string, unknown>, key: string, where: string, problems: string[]): string[] | undefined {
  const value = metadata[key]
  if (value === undefined) return undefined
  if (Array.isArray(value) && value.every((item) => typeof item === 'string' && item.length > 0)) return value as string[]
  problems.push(`${where}.${key}: must be a list of script paths (strings), not ${JSON.stringify(value)?.slice(0, 40) ?? typeof value}`)
  return []
}

/** `value` when within `bounds`, else a problem naming the field and the valid range. */
function bounded(value: number, bounds: Bounds, where: string, problems: string[]): number {
  if (problems.some((p) => p.startsWith(`${where}:`))) return value // already reported
  if (!Number.isFinite(value) || value < bounds.min || value > bounds.max) {
    problems.push(`${where}: ${bounds.describe(value)} is out of range; give ${bounds.describe(bounds.min)} to ${bounds.describe(bounds.max)}`)
  }
  return value
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
