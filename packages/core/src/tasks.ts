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
}

export interface Task {
  title: string
  run?: (ctx: TaskContext) => Promise<void>
  subtasks?: Task[]
  /** Run the subtasks at the same time. */
  concurrent?: boolean
}

export type TaskRunner = (tasks: Task[], signal?: AbortSignal) => Promise<void>

/** Run a task tree without any UI; progress lines go to `onReport` (transfers at most every `progressEveryMs`). */
export function plainRunner(onReport: (title: string, text: string) => void = () => {}, progressEveryMs = 5000): TaskRunner {
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
