import {formatTransfer, type EventBus, type LagoEvent, type TaskRef} from '@lago/core/prefix'

export interface PlainProgressOptions {
  /** A line at least this often while work goes on (a heartbeat when nothing else was printed). */
  heartbeatSeconds: number
  /** Transfer progress at most this often per task. */
  transferEveryMs: number
  write?: (line: string) => void
}

/**
 * Progress for logs (no terminal): one plain line per event with a UTC timestamp, no spinners
 * or control sequences, and while a task runs, a heartbeat naming it when nothing was printed
 * for `heartbeatSeconds` (CI systems kill jobs that print nothing for a while).
 */
export function printPlainProgress(bus: EventBus, options: PlainProgressOptions): () => void {
  const write = options.write ?? ((line: string) => process.stderr.write(line))
  const started = Date.now()
  const running = new Map<string, TaskRef>()
  const lastTransfer = new Map<string, number>()
  let lastLine = Date.now()
  const print = (text: string) => {
    lastLine = Date.now()
    write(`${new Date(lastLine).toISOString().slice(0, 19)}Z ${text}\n`)
  }
  const unsubscribe = bus.subscribe((event) => {
    const line = lineFor(event, running, lastTransfer, options.transferEveryMs)
    if (line !== undefined) print(line)
  })
  const timer = setInterval(
    () => {
      // Only while a task runs: a shell session or "ovirt serve" waiting for requests is not a stuck step.
      if (running.size === 0 || Date.now() - lastLine < options.heartbeatSeconds * 1000) return
      const innermost = [...running.values()].filter((t) => ![...running.values()].some((other) => other.id.startsWith(`${t.id}.`)))
      const what = innermost.map(pathOf).join('; ')
      print(`heartbeat: ${Math.round((Date.now() - started) / 1000)} s elapsed, still running: ${what}`)
    },
    Math.max(200, Math.min(options.heartbeatSeconds * 1000, 5000) / 2),
  )
  timer.unref()
  return () => {
    clearInterval(timer)
    unsubscribe()
  }
}

function lineFor(event: LagoEvent, running: Map<string, TaskRef>, lastTransfer: Map<string, number>, everyMs: number): string | undefined {
  switch (event.type) {
    case 'task.started':
      running.set(event.task.id, event.task)
      return `[started] ${pathOf(event.task)}`
    case 'task.progress':
      return `[.......] ${pathOf(event.task)}: ${event.text}`
    case 'task.finished':
      running.delete(event.task.id)
      return `[done   ] ${pathOf(event.task)} (${seconds(event.durationMs)})`
    case 'task.failed':
      running.delete(event.task.id)
      return `[failed ] ${pathOf(event.task)} (${seconds(event.durationMs)}): ${event.error.message.split('\n')[0]}`
    case 'download.progress': {
      const key = event.task?.id ?? ''
      const finished = event.total !== undefined && event.done >= event.total
      if (!finished && Date.now() - (lastTransfer.get(key) ?? 0) < everyMs) return undefined
      lastTransfer.set(key, Date.now())
      return `[.......] ${event.task ? pathOf(event.task) : 'transfer'}: ${formatTransfer(event)}`
    }
    case 'vm.state':
      return `[vm     ] ${event.vm}: ${event.state}${event.detail ? ` (${event.detail.split('\n')[0]})` : ''}`
    default:
      return undefined // verbs and warnings print their own messages
  }
}

function pathOf(task: TaskRef): string {
  return [...task.parents, task.title].join(' > ')
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`
}
