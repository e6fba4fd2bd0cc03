import {definedOnly, events, type TaskHandle, type TaskSubject} from './events/bus.js'
import type {EventObject} from './events/types.js'
import {ProgressMeter, formatTransfer, type ProgressUpdate} from './util/progress.js'

/**
 * Long operations are described as task trees, so the CLI can render them live (listr2)
 * and SDK users can run them plainly. A task either runs or holds subtasks.
 */
export interface TaskContext {
  signal?: AbortSignal
  /** A line of progress (bytes downloaded, what is being waited for). */
  report(text: string): void
  /**
   * A transfer's progress in bytes. Runners render it (a bar with rate and ETA on a terminal,
   * a line every few seconds otherwise); runners that do not know it get `report` lines.
   */
  progress?(update: ProgressUpdate): void
  /**
   * A step inside this task that reports should show on its own (a deploy script): a child
   * task in the event stream, started now, finished or failed with `work`.
   */
  step?<T>(title: string, subject: TaskSubject, work: () => Promise<T>): Promise<T>
}

export interface Task {
  title: string
  run?: (ctx: TaskContext) => Promise<void>
  subtasks?: Task[]
  /** Run the subtasks at the same time. */
  concurrent?: boolean
  /** The VM this task is about (events carry it; reports list a case per VM). */
  vm?: string
  /** What else it works on (a network, a template). */
  object?: EventObject
}

/** Run `work` as a step of the task behind `ctx` (plainly when nothing records steps). */
export function runStep<T>(ctx: Pick<TaskContext, 'step'>, title: string, subject: TaskSubject, work: () => Promise<T>): Promise<T> {
  return ctx.step ? ctx.step(title, subject, work) : work()
}

export type TaskRunner = (tasks: Task[], signal?: AbortSignal) => Promise<void>

/** Run a task tree without any UI; progress lines go to `onReport` (transfers at most every `progressEveryMs`); events go to the bus. */
export function plainRunner(onReport: (title: string, text: string) => void = () => {}, progressEveryMs = 5000): TaskRunner {
  const run = plainTreeRunner(onReport, progressEveryMs)
  return (tasks, signal) => run(withEvents(tasks), signal)
}

function plainTreeRunner(onReport: (title: string, text: string) => void, progressEveryMs: number): TaskRunner {
  const runOne = async (task: Task, signal?: AbortSignal): Promise<void> => {
    if (task.run) {
      const report = (text: string) => onReport(task.title, text)
      await task.run({signal, report, progress: progressReporter(report, {everyMs: progressEveryMs})})
    }
    if (task.subtasks) await runList(task.subtasks, task.concurrent ?? false, signal)
  }
  const runList = async (tasks: Task[], concurrent: boolean, signal?: AbortSignal): Promise<void> => {
    if (!concurrent) {
      for (const task of tasks) await runOne(task, signal)
      return
    }
    const results = await Promise.allSettled(tasks.map((task) => runOne(task, signal)))
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
    if (failed) throw failed.reason
  }
  return (tasks, signal) => runList(tasks, false, signal)
}

/** How often a transfer emits a download.progress event (the last one always comes). */
const DOWNLOAD_EVENT_EVERY_MS = 1000

type Parent = TaskHandle & {nextChildId(): string}

/**
 * The same task tree, emitting task events (started, progress, finished, failed) on the bus,
 * download.progress for transfers (throttled) and a child task for each `ctx.step`. A task
 * with subtasks finishes when all of them have, and fails with the first that fails.
 */
export function withEvents(tasks: Task[]): Task[] {
  return tasks.map((task) => instrument(task, () => undefined))
}

function instrument(task: Task, parentOf: () => Parent | undefined, settled?: (error?: unknown) => void): Task {
  let handle: Parent | undefined
  let pending = task.subtasks?.length ?? 0
  let ended = false
  const end = (error?: unknown) => {
    if (!handle || ended) return
    ended = true
    if (error === undefined) handle.finish()
    else handle.fail(error)
    settled?.(error)
  }
  const childSettled = (error?: unknown) => {
    pending--
    if (error !== undefined) end(error)
    else if (pending === 0) end()
  }
  const subject: TaskSubject = {vm: task.vm, object: task.object}
  return {
    ...task,
    run: async (ctx) => {
      handle = events.startTask(task.title, subject, parentOf())
      try {
        if (task.run) await task.run(contextWithEvents(ctx, handle, subject))
      } catch (error) {
        end(error)
        throw error
      }
      if (pending === 0) end()
    },
    subtasks: task.subtasks?.map((sub) => instrument(sub, () => handle, childSettled)),
  }
}

function contextWithEvents(ctx: TaskContext, handle: Parent, subject: TaskSubject): TaskContext {
  const meter = new ProgressMeter()
  let lastEvent = 0
  return {
    signal: ctx.signal,
    report: (text) => {
      handle.progress(text)
      ctx.report(text)
    },
    progress: (update) => {
      const snapshot = meter.update(update)
      const now = Date.now()
      const finished = update.total !== undefined && update.done >= update.total
      if (lastEvent === 0 || now - lastEvent >= DOWNLOAD_EVENT_EVERY_MS || finished) {
        lastEvent = now
        const {rate, eta, total} = snapshot
        events.emit({type: 'download.progress', task: handle.ref, done: snapshot.done, ...definedOnly({total, rate, eta, ...subject})})
      }
      ctx.progress?.(update)
    },
    step: (title, stepSubject, work) => events.step(title, {...subject, ...stepSubject}, () => work(), handle),
  }
}

/**
 * A `progress` implementation on top of a line reporter: rate and ETA from a meter, one line
 * at most every `everyMs` (the first one at once, the last one when the total is reached).
 */
export function progressReporter(report: (text: string) => void, options: {everyMs: number; bar?: boolean}): (update: ProgressUpdate) => void {
  const meter = new ProgressMeter()
  let last = 0
  return (update) => {
    const snapshot = meter.update(update)
    const now = Date.now()
    const finished = update.total !== undefined && update.done >= update.total
    if (last !== 0 && now - last < options.everyMs && !finished) return
    last = now
    report(formatTransfer(snapshot, {bar: options.bar}))
  }
}
