/** The signals a Lago command handles: the first aborts its work (which rolls back), a second exits at once. */
export const HANDLED_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP']

export function signalNumberOf(signal: NodeJS.Signals): number {
  return ({SIGHUP: 1, SIGINT: 2, SIGTERM: 15} as Record<string, number>)[signal] ?? 15
}

/**
 * Handle SIGINT/SIGTERM/SIGHUP for one command: the first calls `onFirst` (abort and roll
 * back), a second exits with 128+N at once, saying what the unfinished rollback may leave.
 * Returns the function that stops handling them.
 */
export function trapSignals(onFirst: (signal: NodeJS.Signals) => void, leftovers: () => string): () => void {
  let count = 0
  const onSignal = (signal: NodeJS.Signals) => {
    count++
    if (count > 1) {
      process.stderr.write(`\nInterrupted again by ${signal}: exiting without finishing the rollback. ${leftovers()}\n`)
      process.exit(128 + signalNumberOf(signal))
    }
    onFirst(signal)
  }
  for (const signal of HANDLED_SIGNALS) process.on(signal, onSignal)
  return () => {
    for (const signal of HANDLED_SIGNALS) process.off(signal, onSignal)
  }
}
