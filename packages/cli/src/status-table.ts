import type {PrefixStatus} from '@lago/core'

/** Plain-text tables for `lago status`. */
export function renderStatus(status: PrefixStatus): string {
  const mode = status.mode === 'session' ? 'session (rootless: qemu:///session, networks are segments inside qemu, SSH forwarded on 127.0.0.1)' : 'system'
  const lines = [
    `Prefix: ${status.prefix}${status.initialized ? '' : ' (cleaned up)'}`,
    `UUID:   ${status.uuid}`,
    `Host:   ${status.host.name === 'local' ? 'local' : `${status.host.name} (${status.host.uri})`}`,
    `Mode:   ${mode}`,
    '',
  ]
  lines.push(
    ...table(
      ['NETWORK', 'TYPE', 'SUBNET', 'GATEWAY', 'MANAGEMENT', 'STATE'],
      status.nets.map((n) => [n.name, n.type, n.subnet, n.gateway, n.management ? 'yes' : '', n.active ? 'active' : 'down']),
    ),
  )
  lines.push('')
  lines.push(
    ...table(
      ['VM', 'STATE', 'IP', ...(status.mode === 'session' ? ['SSH'] : []), 'MEMORY', 'VCPU', 'DISKS', 'SNAPSHOTS'],
      status.vms.map((vm) => [
        vm.name,
        vm.state,
        vm.nics.map((n) => `${n.ip} (${n.net})`).join(', '),
        ...(status.mode === 'session' ? [vm.ssh ?? ''] : []),
        `${vm.memory} MiB`,
        String(vm.vcpu),
        vm.disks.map((d) => `${d.dev}${d.template ? `=${d.template}:${d.templateVersion}` : ''}`).join(' '),
        vm.snapshots.join(', '),
      ]),
    ),
  )
  // Disks on a remote hypervisor: where each one is there (the table above names templates only).
  const remote = status.vms.flatMap((vm) => vm.disks.filter((d) => d.host).map((d) => [vm.name, d.dev, `${d.host}:${d.path}`]))
  if (remote.length > 0) lines.push('', ...table(['VM', 'DISK', 'ON HOST'], remote))
  return lines.join('\n')
}

export function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)))
  const format = (row: string[]) =>
    row
      .map((cell, i) => cell.padEnd(widths[i]))
      .join('  ')
      .trimEnd()
  return [format(header), ...rows.map(format)]
}
