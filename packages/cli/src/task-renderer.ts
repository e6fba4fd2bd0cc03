import {Listr, PRESET_TIMER, type ListrTask} from 'listr2'
import type {Task} from '@lago/core'

export interface RenderOptions {
  signal?: AbortSignal
  /** No output at all (--json). */
  quiet?: boolean
}

/** Render a core task tree with listr2: live on a terminal, one line per event otherwise. */
export async function runWithListr(tasks: Task[], options: RenderOptions = {}): Promise<void> {
  const renderer = options.quiet ? 'silent' : process.stderr.isTTY ? 'default' : 'simple'
  const list = new Listr(tasks.map((t) => toListr(t, options.signal)), {
    renderer,
    fallbackRenderer: 'simple',
    exitOnError: true,
    registerSignalListeners: false,
    rendererOptions: {collapseSubtasks: false, timer: PRESET_TIMER},
    fallbackRendererOptions: {timer: PRESET_TIMER},
  })
  await list.run()
}

function toListr(task: Task, signal?: AbortSignal): ListrTask {
  return {
    title: task.title,
    task: async (_ctx, listrTask) => {
      if (task.run) {
        await task.run({
          signal,
          report: (text) => {
            listrTask.output = text
          },
        })
      }
      if (task.subtasks) {
        return listrTask.newListr(task.subtasks.map((t) => toListr(t, signal)), {concurrent: task.concurrent ?? false, exitOnError: true})
      }
      return undefined
    },
    rendererOptions: {persistentOutput: false, outputBar: 1},
  }
}
