/**
 * Long operations are described as task trees, so the CLI can render them live (listr2)
 * and SDK users can run them plainly. A task either runs or holds subtasks.
 */
export interface TaskContext {
  signal?: AbortSignal
  /** A line of progress (bytes downloaded, what is being waited for). */
  report(text: string): void
}

export interface Task {
  title: string
  run?: (ctx: TaskContext) => Promise<void>
  subtasks?: Task[]
  /** Run the subtasks at the same time. */
  concurrent?: boolean
}

export type TaskRunner = (tasks: Task[], signal?: AbortSignal) => Promise<void>

/** Run a task tree without any UI; progress lines go to `onReport`. */
export function plainRunner(onReport: (title: string, text: string) => void = () => {}): TaskRunner {
  const runOne = async (task: Task, signal?: AbortSignal): Promise<void> => {
    if (task.run) await task.run({signal, report: (text) => onReport(task.title, text)})
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
