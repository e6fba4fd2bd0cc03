import type {Task} from '../tasks.js'
import {formatBytes} from '../util/format.js'
import type {RetryPolicy} from './http.js'
import type {ResolvedTemplate} from './repo.js'
import type {EnsureResult, TemplateStore} from './store.js'
import type {TemplateUser} from './users.js'

export interface FetchTaskOptions {
  title?: string
  retry?: RetryPolicy
  /** The prefix that will use the template (registered before the download starts). */
  user?: TemplateUser
  /** Store a repository template without a published hash. */
  allowUnverified?: boolean
  /** Called with the stored template once it is there. */
  onStored?: (result: EnsureResult) => void
  /** Called before the store is touched (a prefix journals its use of the template). */
  before?: () => Promise<void>
}

/**
 * A task that makes sure one template is in the store, telling what happens as it happens:
 * download progress, resumes after dropped connections, waiting for another process.
 */
export function fetchTemplateTask(store: TemplateStore, template: ResolvedTemplate, options: FetchTaskOptions = {}): Task {
  return {
    title: options.title ?? `Template ${template.id}`,
    run: async (ctx) => {
      await options.before?.()
      let lastWait = 0
      const result = await store.ensure(template, {
        signal: ctx.signal,
        user: options.user,
        retry: options.retry,
        allowUnverified: options.allowUnverified,
        onWait: (partial) => {
          if (Date.now() - lastWait < 1000) return
          lastWait = Date.now()
          ctx.report(`waiting for another Lago process downloading it${partial ? ` (${formatBytes(partial)} so far)` : ''}`)
        },
        onProgress: (p) => (ctx.progress ? ctx.progress(p) : ctx.report(formatBytes(p.done))),
        onRetry: (r) => ctx.report(`${r.reason}; resuming from ${formatBytes(r.offset)} in ${(r.delayMs / 1000).toFixed(1)} s (attempt ${r.attempt})`),
      })
      ctx.report(result.downloaded ? `downloaded ${formatBytes(result.size)}, ${result.verified ? 'verified' : 'no checksum published'}` : 'in the store')
      options.onStored?.(result)
    },
  }
}
