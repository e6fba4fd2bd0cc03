import type {HostCheck} from '../check.js'
import {cpuVirtCheck} from './cpu-virt.js'
import {diskSpaceCoreCheck} from './disk-space.js'
import {groupsCheck} from './groups.js'
import {kvmCheck} from './kvm.js'
import {lagoDirsCheck} from './lago-dirs.js'
import {libvirtCheck} from './libvirt.js'
import {nestedCheck} from './nested.js'
import {qemuAccessCheck} from './qemu-access.js'
import {selinuxCheck} from './selinux.js'
import {sessionCheck} from './session.js'
import {coreToolsCheck} from './tools.js'

/** Core's checks, in the order the doctor prints them (plugins' follow). */
export const BUILTIN_HOST_CHECKS: readonly HostCheck[] = [
  cpuVirtCheck,
  kvmCheck,
  nestedCheck,
  coreToolsCheck,
  libvirtCheck,
  sessionCheck,
  groupsCheck,
  lagoDirsCheck,
  qemuAccessCheck,
  selinuxCheck,
  diskSpaceCoreCheck,
]
