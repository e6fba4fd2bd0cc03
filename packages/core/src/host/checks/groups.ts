import type {CheckOutcome, HostCheck} from '../check.js'
import {modeOf} from '../../session/mode.js'
import {currentUser, groupInfo, userGroups, type GroupInfo, type UserIdentity} from '../facts.js'

/** The user is in the group the install expects (lago: the shared directories and the polkit rule). */
export const groupsCheck: HostCheck = {
  id: 'groups',
  title: 'groups',
  async run(ctx) {
    const user = currentUser()
    if (modeOf(ctx.config.libvirt.uri) === 'session') return {status: 'ok', message: `session (rootless) mode: ${user.name} needs no group`}
    const name = ctx.config.lago.group
    const group = await groupInfo(name)
    return groupsOutcome(user, name, group, group ? await userGroups(user.name) : undefined)
  },
}

export function groupsOutcome(user: UserIdentity, name: string, group: GroupInfo | undefined, databaseGroups: string[] | undefined): CheckOutcome {
  const setup = `sudo lago setup --user ${user.name}`
  if (!group) {
    if (user.uid === 0) return {status: 'ok', message: `running as root (group ${name} does not exist yet: "lago setup" creates it for other users)`}
    return {status: 'warn', message: `group ${name} does not exist, so the shared Lago directories and libvirt are root's only`, fix: setup}
  }
  if (user.uid === 0) return {status: 'ok', message: 'running as root'}
  if (user.gids.includes(group.gid)) return {status: 'ok', message: `${user.name} is in group ${name}`}
  if (databaseGroups?.includes(name) || group.members.includes(user.name)) {
    return {status: 'warn', message: `${user.name} was added to group ${name} after this login session started`, fix: `log out and in again (or start a shell with "newgrp ${name}")`}
  }
  return {status: 'warn', message: `${user.name} is not in group ${name} (the shared store, leases and the libvirt polkit rule need it)`, fix: `${setup}, then log in again`}
}
