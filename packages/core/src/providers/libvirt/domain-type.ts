import {mkdtemp, mkdir, readFile, rm, stat, writeFile} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import {log} from '../../log.js'
import {run, whichFirst} from '../../util/exec.js'

export type DomainType = 'kvm' | 'qemu'

export interface KvmStatus {
  works: boolean
  /** ok; no-qemu: no qemu-system binary; no-dev-kvm: /dev/kvm missing; probe-failed: a KVM guest died; unknown: not probed yet (cheap mode). */
  reason: 'ok' | 'no-qemu' | 'no-dev-kvm' | 'probe-failed' | 'unknown'
  /** The answer came from the cache (no guest was booted now). */
  cached: boolean
}

/**
 * Does a KVM guest really run here? /dev/kvm may exist and still fail (nested hosts where
 * the guest dies with "KVM internal error"), so boot a one-sector guest under KVM that
 * reports through the isa-debug-exit port. The answer is cached per kernel and qemu binary.
 */
export async function kvmWorks(cacheDir = defaultCacheDir()): Promise<boolean> {
  return (await kvmStatus({cacheDir})).works
}

/** kvmWorks with the reason; `probe: false` answers from the cache only (never boots a guest). */
export async function kvmStatus(options: {cacheDir?: string; probe?: boolean} = {}): Promise<KvmStatus> {
  const cacheDir = options.cacheDir ?? defaultCacheDir()
  const qemu = await whichFirst(['qemu-system-x86_64', 'qemu-kvm'])
  if (!qemu) return {works: false, reason: 'no-qemu', cached: false}
  const kvm = await stat('/dev/kvm').catch(() => undefined)
  if (!kvm) return {works: false, reason: 'no-dev-kvm', cached: false}
  const binary = await stat(qemu)
  const key = `${os.release()} ${qemu} ${binary.size} ${binary.mtimeMs}`
  const cacheFile = path.join(cacheDir, 'kvm-probe.json')
  const cached = await readFile(cacheFile, 'utf8')
    .then((t) => JSON.parse(t) as {key: string; works: boolean})
    .catch(() => undefined)
  if (cached?.key === key) return {works: cached.works, reason: cached.works ? 'ok' : 'probe-failed', cached: true}
  if (options.probe === false) return {works: false, reason: 'unknown', cached: false}
  const works = await probeKvm(qemu)
  log.info(`KVM probe: a KVM guest ${works ? 'runs' : 'does not run'} on this host`)
  await mkdir(cacheDir, {recursive: true})
    .then(() => writeFile(cacheFile, JSON.stringify({key, works})))
    .catch(() => undefined)
  return {works, reason: works ? 'ok' : 'probe-failed', cached: false}
}

const EXIT_PORT = 0xf4
const EXIT_VALUE = 0x21
/** isa-debug-exit turns the value v written to the port into exit status (v << 1) | 1. */
const EXPECTED_STATUS = (EXIT_VALUE << 1) | 1

async function probeKvm(qemu: string): Promise<boolean> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'lago-kvm-probe-'))
  try {
    const disk = Buffer.alloc(512)
    // mov al, 0x21; out 0xf4, al; hlt; jmp $-1
    Buffer.from([0xb0, EXIT_VALUE, 0xe6, EXIT_PORT, 0xf4, 0xeb, 0xfd]).copy(disk)
    disk[510] = 0x55
    disk[511] = 0xaa
    const image = path.join(dir, 'probe.img')
    await writeFile(image, disk)
    const result = await run(
      qemu,
      [
        '-accel',
        'kvm',
        '-machine',
        'pc',
        '-m',
        '16',
        '-nodefaults',
        '-display',
        'none',
        '-no-reboot',
        '-device',
        `isa-debug-exit,iobase=${EXIT_PORT},iosize=0x04`,
        '-drive',
        `file=${image},format=raw,if=ide`,
      ],
      {reject: false, timeoutMs: 8_000},
    )
    return result.exitCode === EXPECTED_STATUS
  } finally {
    await rm(dir, {recursive: true, force: true})
  }
}

function defaultCacheDir(): string {
  return path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'lago')
}

export async function resolveDomainType(setting: 'auto' | DomainType): Promise<DomainType> {
  if (setting !== 'auto') return setting
  return (await kvmWorks()) ? 'kvm' : 'qemu'
}
