/**
 * Concurrent tasks that must all run to the end before any of them fails: each task's work
 * returns whether it succeeded; once all `count` have finished, every unsuccessful one throws
 * the same error from `failure()` (so a UI marks exactly those as failed, and the first
 * thrown error describes them all).
 */
export function settleTogether(count: number, failure: () => Error | undefined): (index: number, work: () => Promise<boolean>) => Promise<void> {
  let pending = count
  let release!: () => void
  const allDone = new Promise<void>((resolve) => (release = resolve))
  if (count === 0) release()
  return async (_index, work) => {
    let ok = false
    let thrown: {error: unknown} | undefined
    try {
      ok = await work()
    } catch (error) {
      thrown = {error}
    } finally {
      if (--pending === 0) release()
    }
    await allDone
    if (thrown) throw thrown.error
    if (!ok) throw failure() ?? new Error('a task failed without saying why')
  }
}
