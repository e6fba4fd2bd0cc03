/**
 * What qemu and libvirt print when KVM itself fails, as opposed to any other reason a guest
 * does not start. Only these make Lago fall back to TCG.
 */
const KVM_FAILURE_PATTERNS: readonly RegExp[] = [
  /KVM internal error/i,
  /emulation failure/i,
  /failed to set MSR/i,
  /kvm_buf_set_msrs/i,
  /kvm run failed/i,
  /KVM: entry failed/i,
  /kvm_init_vcpu failed/i,
  /failed to initialize kvm/i,
  /Could not access KVM kernel module/i,
  /does not support virt type 'kvm'/i,
  /could not find capabilities for domaintype=kvm/i,
  /the CPU is incompatible with host CPU/i,
]

/** qemu's own line prefixes: "2026-12-01T21:33:05.371214Z qemu-system-x86_64: error: ". */
const LINE_PREFIX = /^(?:\d{4}-\d\d-\d\d[T ][\d:.]+(?:Z|[+-]\d{4})?:?\s*)?(?:[\w./-]*qemu[\w-]*:\s*)?(?:error:\s*)?/

/**
 * The KVM failure described in `text` (qemu log, libvirt error, console), in one line of at
 * most two distinct messages; undefined when the text shows no KVM failure.
 */
export function kvmFailureIn(text: string): string | undefined {
  const found: string[] = []
  for (const raw of text.split(/\r?\n|(?<=\.) (?=qemu-system)/)) {
    const line = raw
      .replace(/^.*?(?=KVM internal error|failed to set MSR|kvm_buf_set_msrs)/i, '')
      .replace(LINE_PREFIX, '')
      .trim()
    if (!line || !KVM_FAILURE_PATTERNS.some((pattern) => pattern.test(line))) continue
    const short = line.length > 160 ? `${line.slice(0, 157)}...` : line
    if (!found.includes(short)) found.push(short)
    if (found.length === 2) break
  }
  return found.length > 0 ? found.join('; ') : undefined
}
