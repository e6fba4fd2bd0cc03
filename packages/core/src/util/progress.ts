import {formatBytes} from './format.js'

/** One transfer's state as a task reports it: bytes done of (maybe) a known total. */
export interface ProgressUpdate {
  done: number
  total?: number
}

export interface ProgressSnapshot extends ProgressUpdate {
  /** Bytes per second, smoothed; undefined until two samples are apart in time. */
  rate?: number
  /** Seconds until done at the current rate, when the total is known. */
  eta?: number
}

/** Turns successive byte counts into a rate (exponentially smoothed) and an ETA. */
export class ProgressMeter {
  private last?: {at: number; done: number}
  private rate?: number

  constructor(private readonly now: () => number = Date.now) {}

  update({done, total}: ProgressUpdate): ProgressSnapshot {
    const at = this.now()
    if (!this.last || done < this.last.done) this.last = {at, done}
    else if (at - this.last.at >= 250) {
      const instant = ((done - this.last.done) * 1000) / (at - this.last.at)
      this.rate = this.rate === undefined ? instant : this.rate * 0.7 + instant * 0.3
      this.last = {at, done}
    }
    const eta = total !== undefined && this.rate ? Math.max(0, (total - done) / this.rate) : undefined
    return {done, total, rate: this.rate, eta}
  }
}

/** "[#####-----] 45% 450.0 MiB of 1.0 GiB, 80.0 MiB/s, ETA 7 s" (the bar only when asked). */
export function formatTransfer(p: ProgressSnapshot, options: {bar?: boolean; width?: number} = {}): string {
  const parts: string[] = []
  if (p.total) {
    const fraction = Math.min(1, p.done / p.total)
    if (options.bar) {
      const width = options.width ?? 20
      const full = Math.round(fraction * width)
      parts.push(`[${'#'.repeat(full)}${'-'.repeat(width - full)}]`)
    }
    parts.push(`${Math.floor(fraction * 100)}% ${formatBytes(p.done)} of ${formatBytes(p.total)}`)
  } else {
    parts.push(formatBytes(p.done))
  }
  if (p.rate !== undefined) parts.push(`${formatBytes(p.rate)}/s`)
  if (p.eta !== undefined) parts.push(`ETA ${formatDuration(p.eta)}`)
  return parts.join(', ').replace(/^(\[[#-]+\]), /, '$1 ')
}

export function formatDuration(seconds: number): string {
  const s = Math.ceil(seconds)
  if (s < 60) return `${s} s`
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`
}
