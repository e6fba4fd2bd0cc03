import {readFileSync} from 'node:fs'
import os from 'node:os'

/**
 * A process as other processes can check it later: pid, its start time (so a reused pid is
 * not mistaken for it) and the host (a pid means nothing on another machine).
 */
export interface ProcessIdentity {
  pid: number
  /** /proc/PID/stat field 22 (clock ticks since boot); empty where /proc is not there. */
  started: string
  host: string
}

export function currentProcess(): ProcessIdentity {
  return {pid: process.pid, started: startTime(process.pid) ?? '', host: os.hostname()}
}

/** false only when the process is certainly gone; a process on another host counts as alive. */
export function processAlive(who: ProcessIdentity): boolean {
  if (who.host !== os.hostname()) return true
  if (!Number.isInteger(who.pid) || who.pid <= 0) return false
  try {
    process.kill(who.pid, 0)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false
  }
  if (!who.started) return true
  const now = startTime(who.pid)
  return now === undefined || now === who.started
}

function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // The command name (field 2) may hold spaces and parentheses: count from its closing one.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]
  } catch {
    return undefined
  }
}
