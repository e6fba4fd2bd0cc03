/**
 * A stack of undo steps: each successful step of a multi-step operation pushes how to
 * undo it; on failure (or interruption) `unwind` runs them newest first, and keeps
 * going past failures so one broken undo does not leave the rest behind.
 */
export class Rollback {
  private readonly steps: {what: string; undo: () => Promise<void> | void}[] = []

  push(what: string, undo: () => Promise<void> | void): void {
    this.steps.push({what, undo})
  }

  async unwind(onError: (what: string, error: unknown) => void = () => {}): Promise<void> {
    while (this.steps.length > 0) {
      const step = this.steps.pop()!
      try {
        await step.undo()
      } catch (error) {
        onError(step.what, error)
      }
    }
  }

  /** Forget the steps: the operation succeeded and its results stay. */
  commit(): void {
    this.steps.length = 0
  }
}
