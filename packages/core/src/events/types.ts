/** The version of the event format (docs/events.schema.json); bumped on incompatible changes. */
export const EVENT_SCHEMA_VERSION = 1

export type VerbEventType = 'verb.started' | 'verb.finished' | 'verb.failed'
export type TaskEventType = 'task.started' | 'task.progress' | 'task.finished' | 'task.failed'
export type LagoEventType = VerbEventType | TaskEventType | 'vm.state' | 'download.progress' | 'warning'

/** What a task works on, so reports can tell a VM's start from a deploy script or a test scenario. */
export interface EventObject {
  kind: 'vm' | 'script' | 'scenario' | 'network' | 'template' | 'collect' | (string & {})
  name: string
}

export interface TaskRef {
  /** Position in this run's task tree ("2.1"); unique within one run. */
  id: string
  title: string
  /** Titles of the enclosing tasks, outermost first. */
  parents: string[]
}

export type VmStateName = 'starting' | 'booted' | 'ssh-ready' | 'unreachable' | 'stopping' | 'stopped'

export interface EventError {
  /** A LagoError code (INTERNAL for anything else). */
  code: string
  message: string
}

/** Fields every event carries. */
export interface EventBase {
  v: typeof EVENT_SCHEMA_VERSION
  /** ISO 8601 UTC, milliseconds. */
  time: string
  /** Identifies one process's run of one verb (events of several processes may share a file). */
  run: string
  /** Order of the event within its run, from 1. */
  seq: number
  pid: number
  /** The prefix directory, once known. */
  prefix?: string
  /** The verb as typed ("start", "ovirt deploy"); absent for SDK use outside the CLI. */
  verb?: string
  vm?: string
  object?: EventObject
}

export type LagoEvent =
  | (EventBase & {type: 'verb.started'; argv: string[]})
  | (EventBase & {type: 'verb.finished'; durationMs: number; exitCode: 0; logs?: string})
  /** Always the run's last event; exitCode is the process's exit status. `logs`: where the VMs' logs were collected. */
  | (EventBase & {type: 'verb.failed'; durationMs: number; exitCode: number; error: EventError; logs?: string})
  | (EventBase & {type: 'task.started'; task: TaskRef})
  | (EventBase & {type: 'task.progress'; task: TaskRef; text: string})
  | (EventBase & {type: 'task.finished'; task: TaskRef; durationMs: number})
  | (EventBase & {type: 'task.failed'; task: TaskRef; durationMs: number; error: EventError})
  | (EventBase & {type: 'vm.state'; vm: string; state: VmStateName; detail?: string})
  | (EventBase & {type: 'download.progress'; task?: TaskRef; done: number; total?: number; rate?: number; eta?: number})
  | (EventBase & {type: 'warning'; message: string})

/** An event as code emits it: the bus adds the common fields. */
export type EventInput = LagoEvent extends infer E ? (E extends LagoEvent ? Omit<E, keyof EventBase> & Partial<Pick<EventBase, 'vm' | 'object' | 'prefix'>> : never) : never
