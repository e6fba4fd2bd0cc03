import {readFile} from 'node:fs/promises'
import type {CheckOutcome, HostCheck} from '../check.js'

/** SELinux enforcing keeps qemu out of prefixes outside libvirt's labelled image directories. */
export const selinuxCheck: HostCheck = {
  id: 'selinux',
  title: 'SELinux',
  async run() {
    return selinuxOutcome(await readFile('/sys/fs/selinux/enforce', 'utf8').catch(() => undefined))
  },
}

export function selinuxOutcome(enforce: string | undefined): CheckOutcome {
  if (enforce === undefined) return {status: 'ok', message: 'not enabled'}
  if (enforce.trim() === '0') return {status: 'ok', message: 'permissive'}
  return {
    status: 'warn',
    message: "enforcing: qemu may be denied disks in prefixes outside libvirt's labelled directories",
    fix: 'setenforce 0, and SELINUX=permissive in /etc/selinux/config to keep it after a reboot',
  }
}
