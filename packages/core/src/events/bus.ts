import {randomUUID} from 'node:crypto'
import {errorMessage, isLagoError} from '../errors.js'
import {EVENT_SCHEMA_VERSION, type EventError, type EventInput, type EventObject, type LagoEvent, type TaskRef, type VmStateName} from './types.js'

export type EventListener = (event: LagoEvent) => void

/** What a task is about: its VM and the object it works on. */
export interface TaskSubject {
  vm?: string
  object?: EventObject
}

/** A started task: report progress, then finish or fail it (once). */
export interface TaskHandle {
  readonly ref: TaskRef
  progress(text: string): void
  finish(): void
  fail(error: unknown): void
}

/** Events kept for listeners that attach later (the prefix's file is known only once the prefix is). */
const HISTORY_LIMIT = 5000

/**
 * The one source of progress for a run: tasks, VM state changes, transfers, warnings and
 * the verb's outcome, as typed events. The CLI renders them (listr2 for people, plain lines
 * without a terminal), writes them as NDJSON (--events, PREFIX/.lago/events.ndjson) and
 * builds reports from them; plugins emit through the same bus.
 */
export class EventBus {
  readonly run = randomUUID()
  private seq = 0
  private readonly listeners = new Set<EventListener>()
  private readonly history: LagoEvent[] = []
  private topLevel = 0
  /** How many tasks this process started (a verb that failed before any did has nothing to collect). */
  tasksStarted = 0
  private context: {prefix?: string; verb?: string} = {}

  /** The verb and prefix every following event carries. */
  setContext(context: {prefix?: string; verb?: string}): void {
    this.context = {...this.context, ...context}
  }

  get prefix(): string | undefined {
    return this.context.prefix
  }

  /** Listen to every event, the ones already emitted by this process first (with `replay`). */
  subscribe(listener: EventListener, options: {replay?: boolean} = {}): () => void {
    if (options.replay) for (const event of this.history) listener(event)
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  emit(input: EventInput): LagoEvent {
    const event = {
      v: EVENT_SCHEMA_VERSION,
      time: new Date().toISOString(),
      run: this.run,
      seq: ++this.seq,
      pid: process.pid,
      ...definedOnly({prefix: this.context.prefix, verb: this.context.verb}),
      ...input,
    } as LagoEvent
    if (this.history.length < HISTORY_LIMIT) this.history.push(event)
    for (const listener of this.listeners) {
      try {
        listener(event)
      } catch {
        // A broken sink (a closed pipe) must not break the work it reports on.
      }
    }
    return event
  }

  vmState(vm: string, state: VmStateName, detail?: string): void {
    this.emit({type: 'vm.state', vm, state, ...definedOnly({detail})})
  }

  warning(message: string, subject: TaskSubject = {}): void {
    this.emit({type: 'warning', message, ...definedOnly(subject)})
  }

  /** Start a task; `parent` places it in the tree (top level otherwise). */
  startTask(title: string, subject: TaskSubject = {}, parent?: TaskHandle & {nextChildId(): string}): TaskHandle & {nextChildId(): string} {
    const ref: TaskRef = {
      id: parent ? parent.nextChildId() : String(++this.topLevel),
      title,
      parents: parent ? [...parent.ref.parents, parent.ref.title] : [],
    }
    const fields = definedOnly(subject)
    const started = Date.now()
    this.tasksStarted++
    let children = 0
    let ended = false
    this.emit({type: 'task.started', task: ref, ...fields})
    return {
      ref,
      nextChildId: () => `${ref.id}.${++children}`,
      progress: (text) => {
        if (!ended) this.emit({type: 'task.progress', task: ref, text, ...fields})
      },
      finish: () => {
        if (ended) return
        ended = true
        this.emit({type: 'task.finished', task: ref, durationMs: Date.now() - started, ...fields})
      },
      fail: (error) => {
        if (ended) return
        ended = true
        this.emit({type: 'task.failed', task: ref, durationMs: Date.now() - started, error: eventError(error), ...fields})
      },
    }
  }

  /** Run `work` as a task of its own: started, then finished or failed (rethrown). */
  async step<T>(title: string, subject: TaskSubject, work: (task: TaskHandle) => Promise<T>, parent?: TaskHandle & {nextChildId(): string}): Promise<T> {
    const task = this.startTask(title, subject, parent)
    try {
      const result = await work(task)
      task.finish()
      return result
    } catch (error) {
      task.fail(error)
      throw error
    }
  }
}

export function eventError(error: unknown): EventError {
  if (isLagoError(error)) return {code: error.code, message: error.message}
  return {code: 'INTERNAL', message: errorMessage(error)}
}

/** The fields that have a value (events leave out what is unknown rather than writing null). */
export function definedOnly<T extends object>(fields: T): Partial<T> {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as Partial<T>
}

// One bus per process, even when a plugin resolves a second copy of this module.
const KEY = Symbol.for('lago.events')
const holder = globalThis as unknown as Record<symbol, EventBus | undefined>

/** The process's event bus. */
export const events: EventBus = (holder[KEY] ??= new EventBus())
