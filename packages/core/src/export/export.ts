import {copyFile, mkdir, rm, writeFile} from 'node:fs/promises'
import path from 'node:path'
import {DEFAULT_INIT_FILE} from '../spec/load.js'
import {LagoError} from '../errors.js'
import {log} from '../log.js'
import {refuseOnRemoteHost} from '../prefix/hypervisor.js'
import type {Prefix} from '../prefix/prefix.js'
import type {DiskState, NetState, VmState} from '../prefix/state.js'
import {SECRET_FILE_MODE} from '../prefix/paths.js'
import {plainRunner, type Task, type TaskRunner} from '../tasks.js'
import {scriptName} from '../deploy/deploy.js'
import {pathExists} from '../util/fs.js'
import type {DiskImages} from '../providers/provider.js'

export interface ExportOptions {
  /** A directory that does not exist yet. */
  output: string
  /** Flatten every disk into one self-contained image (no backing file). */
  standalone?: boolean
  /** Only these VMs (default: every VM). */
  vms?: string[]
  /** Name of the init file written into `output` (default LagoInitFile). */
  initFileName?: string
  /** The init file's format: YAML (default) or JSON (the original's "lago -f json export"). */
  initFileFormat?: 'yaml' | 'json'
}

export interface ExportedDisk {
  vm: string
  disk: string
  /** Relative to the output directory. */
  file: string
  /** The template copy it is an overlay of (relative to the output directory), unless standalone. */
  backing?: string
}

export interface ExportResult {
  output: string
  initFile: string
  disks: ExportedDisk[]
  /** Template images copied next to the overlays (relative paths). */
  templates: string[]
}

export interface ExportPlan {
  tasks: Task[]
  result: ExportResult
  /** Remove the half-written output; call when the tasks failed or were interrupted. */
  rollback(): Promise<void>
}

/**
 * Export: the VMs' disks (flattened with `standalone`, else one overlay per disk on a copy
 * of its template) and an init file that recreates the environment from them with
 * `lago init NEW_PREFIX OUTPUT/LagoInitFile`. The VMs must be down (a running disk is
 * still changing).
 */
export async function planExport(prefix: Prefix, options: ExportOptions): Promise<ExportPlan> {
  prefix.requireInitialized()
  refuseOnRemoteHost(
    prefix.provider,
    'export the environment',
    'Export an environment made on this host ("lago init --host local"); "lago collect" still copies files out of running VMs on the hypervisor.',
  )
  const output = path.resolve(options.output)
  const vms = options.vms && options.vms.length > 0 ? options.vms.map((n) => prefix.vm(n)) : prefix.state.vms
  if (await pathExists(output)) {
    throw new LagoError('USAGE', `Export directory ${output} already exists.`, {hint: 'Give a new directory: export never overwrites.'})
  }
  const runtime = await prefix.provider.runtime()
  const running = vms.filter((vm) => runtime.vms.get(vm.libvirtName) === 'running')
  if (running.length > 0) {
    throw new LagoError('VM', `Cannot export running VMs: ${running.map((vm) => vm.name).join(', ')}.`, {
      hint: `Shut them down first ("lago shutdown ${running.map((vm) => vm.name).join(' ')}"), then export.`,
    })
  }
  const initFile = path.join(output, options.initFileName ?? DEFAULT_INIT_FILE)
  const result: ExportResult = {output, initFile, disks: [], templates: []}
  const templateCopies = new Map<string, Promise<string>>()
  let created = false
  const tasks: Task[] = [
    {
      title: `Create ${output}`,
      run: async () => {
        await mkdir(path.dirname(output), {recursive: true})
        await mkdir(output)
        created = true
      },
    },
    {
      title: `Export the disks of ${vms.length} VM${vms.length === 1 ? '' : 's'}${options.standalone ? ' (standalone)' : ''}`,
      concurrent: true,
      subtasks: vms.map((vm) => ({
        title: vm.name,
        run: async (ctx) => {
          for (const disk of vm.disks) {
            ctx.report(disk.name)
            const copyTemplate = (d: DiskState) => copyTemplateOnce(prefix.provider.images, d, output, templateCopies, result)
            result.disks.push(await exportDisk(prefix, vm, disk, output, options.standalone ? undefined : copyTemplate))
          }
        },
      })),
    },
    {
      title: `Write ${path.basename(initFile)}`,
      run: async () => {
        const scripts = await copyScripts(prefix, vms, output)
        const exported = exportedInitFile(prefix, vms, result.disks, scripts)
        // An init file that carries a VM's ssh-password is readable by its owner only.
        const mode = vms.some((vm) => vm.sshPassword) ? SECRET_FILE_MODE : 0o644
        if (options.initFileFormat === 'json') return writeFile(initFile, `${JSON.stringify(exported, null, 2)}\n`, {mode})
        const YAML = await import('yaml')
        const text = YAML.stringify(exported, {lineWidth: 0})
        await writeFile(initFile, `# Exported by lago from ${prefix.paths.root} on ${new Date().toISOString()}.\n# Recreate it: lago init NEW_PREFIX ${initFile}\n${text}`, {mode})
      },
    },
  ]
  return {
    tasks,
    result,
    rollback: async () => {
      if (created) await rm(output, {recursive: true, force: true})
    },
  }
}

/** Plan and run an export without any UI (the SDK's one-call form); removes the output on failure. */
export async function exportPrefix(prefix: Prefix, options: ExportOptions & {runner?: TaskRunner; signal?: AbortSignal}): Promise<ExportResult> {
  const plan = await planExport(prefix, options)
  try {
    await (options.runner ?? plainRunner())(plan.tasks, options.signal)
  } catch (error) {
    await plan.rollback()
    throw error
  }
  return plan.result
}

async function exportDisk(
  prefix: Prefix,
  vm: VmState,
  disk: DiskState,
  output: string,
  /** Layered export: the template copy this disk's overlay goes on (absent: flatten). */
  copyTemplate?: (disk: DiskState) => Promise<string>,
): Promise<ExportedDisk> {
  const source = prefix.paths.resolve(disk.path)
  const images = prefix.provider.images
  const subject = `VM ${vm.name} disk ${disk.name}`
  if (disk.format === 'iso') {
    const file = `${vm.name}_${disk.name}.iso`
    await copyFile(source, path.join(output, file))
    return {vm: vm.name, disk: disk.name, file}
  }
  const file = `${vm.name}_${disk.name}.qcow2`
  const target = path.join(output, file)
  if (!disk.template || !copyTemplate) {
    await images.convert(source, target, {subject})
    return {vm: vm.name, disk: disk.name, file}
  }
  const backing = await copyTemplate(disk)
  const format = await imageFormat(images, path.join(output, backing))
  // Every layer above the template (overlay, snapshot layers) folds into one overlay...
  await images.convert(source, target, {subject, backing: {path: path.join(output, backing), format}})
  // ...which names its template relatively, so the export directory can move.
  await images.rebaseUnsafe(target, {path: backing, format}, {subject})
  return {vm: vm.name, disk: disk.name, file, backing}
}

async function copyTemplateOnce(images: DiskImages, disk: DiskState, output: string, copies: Map<string, Promise<string>>, result: ExportResult): Promise<string> {
  const template = disk.template!
  let copy = copies.get(template.id)
  if (!copy) {
    copy = (async () => {
      const file = path.posix.join('templates', `${template.id.replace(/[^A-Za-z0-9._-]+/g, '_')}.${await imageFormat(images, template.storePath)}`)
      await mkdir(path.join(output, 'templates'), {recursive: true})
      await copyFile(template.storePath, path.join(output, file))
      result.templates.push(file)
      return file
    })()
    copies.set(template.id, copy)
  }
  return copy
}

async function imageFormat(images: DiskImages, file: string): Promise<string> {
  return (await images.info(file, {subject: file})).format
}

/** The prefix's copies of the deploy scripts, into OUTPUT/scripts/<vm>/; paths relative to the output. */
async function copyScripts(prefix: Prefix, vms: VmState[], output: string): Promise<Map<string, string[]>> {
  const scripts = new Map<string, string[]>()
  for (const vm of vms) {
    const copies: string[] = []
    for (const stored of vm.deployScripts) {
      // The name the user gave it; the prefix's order number only when two share a name.
      const name = scriptName(stored)
      const file = path.posix.join('scripts', vm.name, vm.deployScripts.filter((s) => scriptName(s) === name).length > 1 ? path.basename(stored) : name)
      await mkdir(path.join(output, 'scripts', vm.name), {recursive: true})
      await copyFile(prefix.paths.resolve(stored), path.join(output, file))
      copies.push(file)
    }
    scripts.set(vm.name, copies)
  }
  return scripts
}

/** An init file for the exported VMs: same shape, addresses and settings, disks from the export. */
function exportedInitFile(prefix: Prefix, vms: VmState[], disks: ExportedDisk[], scripts: Map<string, string[]>): Record<string, unknown> {
  const usedNets = new Set(vms.flatMap((vm) => vm.nics.map((n) => n.net)))
  const nets = prefix.state.nets.filter((n) => usedNets.has(n.name))
  const domains = Object.fromEntries(
    vms.map((vm) => {
      const {'deploy-scripts': _old, ...metadata} = vm.metadata
      const domain: Record<string, unknown> = {
        memory: vm.memory,
        vcpu: vm.vcpu,
        ...(vm.cpuModel ? {cpu_model: vm.cpuModel} : {}),
        // Leased subnets differ in the new prefix: the last octet is what an address keeps.
        nics: vm.nics.map((n) => ({net: n.net, ip: n.ip})),
        disks: vm.disks.map((d) => {
          const exported = disks.find((e) => e.vm === vm.name && e.disk === d.name)!
          return {name: d.name, dev: d.dev, type: 'file', format: d.format === 'iso' ? 'iso' : 'qcow2', path: exported.file, make_a_copy: true}
        }),
        ...(Object.keys(metadata).length > 0 ? {metadata} : {}),
        ...(vm.artifacts.length > 0 ? {artifacts: vm.artifacts} : {}),
        ...(vm.groups.length > 0 ? {groups: vm.groups} : {}),
        ...(vm.bootstrap ? {} : {bootstrap: false}),
        'ssh-user': vm.sshUser,
        ...(vm.sshPassword ? {'ssh-password': vm.sshPassword} : {}),
        ...(vm.vmType !== 'default' ? {'vm-type': vm.vmType} : {}),
        ...(vm.serviceProvider ? {service_provider: vm.serviceProvider} : {}),
        ...(scripts.get(vm.name)!.length > 0 ? {'deploy-scripts': scripts.get(vm.name)} : {}),
        ...(vm.bootTimeout ? {boot_time_sec: vm.bootTimeout} : {}),
      }
      return [vm.name, domain]
    }),
  )
  if (!nets.some((n) => n.management)) log.warn("export: the management net is not among the exported VMs' nets")
  return {domains, nets: Object.fromEntries(nets.map((n) => [n.name, exportedNet(n)]))}
}

function exportedNet(net: NetState): Record<string, unknown> {
  return {
    type: net.type,
    management: net.management,
    ...(net.dhcp ? {dhcp: net.dhcp} : {}),
    ...(net.management && net.dnsDomainName ? {dns_domain_name: net.dnsDomainName} : {}),
    // A fixed gateway stays fixed; a leased subnet is leased again.
    ...(net.leased ? {} : {gw: net.gateway}),
  }
}
