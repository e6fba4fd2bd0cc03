import {whichFirst} from '../../util/exec.js'
import type {CheckOutcome, CheckPurpose, HostCheck, HostCheckContext} from '../check.js'
import {distroFamily, installCommand, type DistroFamily, type Packages} from '../facts.js'

export interface HostTool {
  /** Any one of these programs on PATH will do. */
  anyOf: readonly string[]
  packages: Packages
  /** Commands that need it before they start (preflight); doctor always checks. */
  neededBy?: readonly Exclude<CheckPurpose, 'doctor'>[]
  /**
   * A further test once a program is found (e.g. "dnf reposync --help" for a dnf plugin);
   * false when the tool is there but not usable. Doctor only: preflight keeps to PATH.
   */
  works?: (program: string) => Promise<boolean>
  /** Needed only in some situations (e.g. the ISO writer only when init writes seeds). */
  onlyWhen?: (ctx: HostCheckContext) => boolean
  /** Name shown when missing; default: anyOf joined with "or". */
  name?: string
}

/** A check that the programs a feature needs are installed, with the install command as the fix. */
export function toolsCheck(options: {id: string; title: string; severity: 'fail' | 'warn'; tools: readonly HostTool[]}): HostCheck {
  const purposes = [...new Set(options.tools.flatMap((t) => t.neededBy ?? []))]
  return {
    id: options.id,
    title: options.title,
    preflight: purposes.length > 0 ? purposes : undefined,
    async run(ctx) {
      const relevant = options.tools.filter((t) => (ctx.purpose === 'doctor' || t.neededBy?.includes(ctx.purpose as 'init')) && (t.onlyWhen?.(ctx) ?? true))
      const missing: HostTool[] = []
      const found: string[] = []
      for (const tool of relevant) {
        const program = await whichFirst(tool.anyOf)
        if (!program || (!ctx.cheap && tool.works && !(await tool.works(program)))) missing.push(tool)
        else found.push(program.split('/').pop()!)
      }
      return toolsOutcome(found, missing, options.severity, missing.length > 0 ? await distroFamily() : 'unknown')
    },
  }
}

export function toolsOutcome(found: string[], missing: HostTool[], severity: 'fail' | 'warn', family: DistroFamily): CheckOutcome {
  if (missing.length === 0) return {status: 'ok', message: found.join(', ')}
  const packages = {
    debian: [...new Set(missing.flatMap((t) => t.packages.debian))],
    fedora: [...new Set(missing.flatMap((t) => t.packages.fedora))],
  }
  return {
    status: severity,
    code: 'HOST',
    message: `missing ${missing.map((t) => t.name ?? t.anyOf.join(' or ')).join(', ')}`,
    fix: installCommand(packages, family),
    detail: {missing: missing.map((t) => t.name ?? t.anyOf.join(' or '))},
  }
}

/** What Lago itself runs: qemu-img for disks, virsh for libvirt (cloud-init seeds are written in-process). */
export const coreToolsCheck = toolsCheck({
  id: 'tools',
  title: 'tools',
  severity: 'fail',
  tools: [
    {anyOf: ['qemu-img'], packages: {debian: ['qemu-utils'], fedora: ['qemu-img']}, neededBy: ['init']},
    {anyOf: ['virsh'], packages: {debian: ['libvirt-clients'], fedora: ['libvirt-client']}, neededBy: ['start']},
  ],
})
