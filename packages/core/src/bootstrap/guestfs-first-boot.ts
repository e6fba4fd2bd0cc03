import type {LagoConfig} from '../config/config.js'
import {LagoError} from '../errors.js'
import {resolveDomainType} from '../providers/libvirt/domain-type.js'
import {run, whichFirst} from '../util/exec.js'

export type FirstBootMethod = 'nocloud' | 'libguestfs'

/**
 * How a VM gets its first-boot configuration: a cloud-init NoCloud seed, or libguestfs
 * writing it into the disk (as the original Lago's virt-sysprep bootstrap did). Declared by
 * `bootstrap` in the VM's metadata or the template's (`cloud-init-nocloud`, `virt-customize`,
 * `virt-sysprep`); else an image of an original Lago template repository (its metadata has
 * `root-password` or `root-partition` and no `bootstrap`) has no cloud-init: libguestfs.
 */
export function firstBootMethod(vmMetadata: Record<string, unknown>, templateMetadata: Record<string, unknown>): FirstBootMethod {
  const declared = vmMetadata.bootstrap ?? templateMetadata.bootstrap
  if (typeof declared === 'string') return /cloud-init|nocloud/i.test(declared) ? 'nocloud' : 'libguestfs'
  return 'root-password' in templateMetadata || 'root-partition' in templateMetadata ? 'libguestfs' : 'nocloud'
}

export interface GuestfsFirstBoot {
  /** The VM's boot disk (its overlay in the prefix, never the store image). */
  disk: string
  format: string
  hostname: string
  authorizedKey: string
  rootPassword?: string
  distro?: string
  /** NICs in order (eth0, eth1, ...), with the MAC their DHCP reservation is for. */
  nics: {mac: string}[]
}

/** virt-customize's arguments for the original's bootstrap: hostname, root password and key, EL network files. */
export function virtCustomizeArgs(vm: GuestfsFirstBoot): string[] {
  const args = ['--format', vm.format, '-a', vm.disk, '--no-network', '--hostname', vm.hostname, '--ssh-inject', `root:string:${vm.authorizedKey}`]
  if (vm.rootPassword) args.push('--root-password', `password:${vm.rootPassword}`)
  if (vm.distro && /^(el|fc|centos|rhel)/i.test(vm.distro)) {
    vm.nics.forEach(({mac}, i) => {
      const ifcfg = [`DEVICE=eth${i}`, `NAME=eth${i}`, 'TYPE=Ethernet', 'BOOTPROTO=dhcp', 'ONBOOT=yes', `HWADDR=${mac}`, '']
      args.push('--write', `/etc/sysconfig/network-scripts/ifcfg-eth${i}:${ifcfg.join('\n')}`)
    })
    args.push('--write', `/etc/iscsi/initiatorname.iscsi:InitiatorName=iqn.2014-07.org.lago:${vm.hostname}\n`, '--selinux-relabel')
  }
  return args
}

/** Write the first-boot configuration into the disk with virt-customize (TCG appliance when KVM does not work here). */
export async function applyGuestfsFirstBoot(vm: GuestfsFirstBoot, libvirt: LagoConfig['libvirt'], signal?: AbortSignal): Promise<void> {
  const tool = await whichFirst(['virt-customize'])
  if (!tool) {
    throw new LagoError('BOOTSTRAP', `VM ${vm.hostname}: its template has no cloud-init, and virt-customize (libguestfs) is not installed to configure it.`, {
      hint: 'Install libguestfs (Debian/Ubuntu: apt-get install libguestfs-tools; Fedora/EL: dnf install guestfs-tools), or init with --skip-bootstrap.',
    })
  }
  const env: Record<string, string> = {LIBGUESTFS_BACKEND: process.env.LIBGUESTFS_BACKEND ?? 'direct'}
  // libguestfs's appliance dies like any KVM guest where KVM does not work (TESTING.md).
  if ((await resolveDomainType(libvirt)) === 'qemu') env.LIBGUESTFS_BACKEND_SETTINGS = 'force_tcg'
  const result = await run(tool, virtCustomizeArgs(vm), {env, signal, reject: false})
  if (result.exitCode !== 0) {
    throw new LagoError('BOOTSTRAP', `VM ${vm.hostname}: virt-customize could not configure its disk (exit status ${result.exitCode}): ${`${result.stderr}`.trim().split('\n').slice(-3).join(' ')}`, {
      hint: 'Run "libguestfs-test-tool" to check libguestfs on this host, or init with --skip-bootstrap for a template that carries its keys.',
    })
  }
}
