import type {ListrTask} from 'listr2'
import {progressReporter, type Task} from '@lago/core/prefix'

export interface RenderOptions {
  signal?: AbortSignal
  /** No output at all (--json). */
  quiet?: boolean
}

/** Render a core task tree with listr2: live on a terminal, one line per event otherwise. */
export async function runWithListr(tasks: Task[], options: RenderOptions = {}): Promise<void> {
  const renderer = options.quiet ? 'silent' : process.stderr.isTTY ? 'default' : 'simple'
  // A terminal redraws in place: a bar, refreshed often. A log gets a line every few seconds.
  const progress = renderer === 'default' ? {everyMs: 100, bar: true} : {everyMs: Number(process.env.LAGO_PROGRESS_INTERVAL_MS ?? 5000), bar: false}
  // Loaded here, not with the module: the lean launcher's bundle would load it for every verb.
  const {Listr, PRESET_TIMER} = await import('listr2')
  const list = new Listr(
    tasks.map((t) => toListr(t, {signal: options.signal, progress})),
    {
      renderer,
      fallbackRenderer: 'simple',
      exitOnError: true,
      registerSignalListeners: false,
      rendererOptions: {collapseSubtasks: false, timer: PRESET_TIMER},
      fallbackRendererOptions: {timer: PRESET_TIMER},
    },
  )
  await list.run()
}

interface ToListrOptions {
  signal?: AbortSignal
  progress: {everyMs: number; bar: boolean}
}

function toListr(task: Task, options: ToListrOptions): ListrTask {
  return {
    title: task.title,
    task: async (_ctx, listrTask) => {
      if (task.run) {
        const report = (text: string) => {
          listrTask.output = text
        }
        await task.run({signal: options.signal, report, progress: progressReporter(report, options.progress)})
      }
      if (task.subtasks) {
        return listrTask.newListr(
          task.subtasks.map((t) => toListr(t, options)),
          {concurrent: task.concurrent ?? false, exitOnError: true},
        )
      }
      return undefined
    },
    rendererOptions: {persistentOutput: false, outputBar: 1},
  }
}
