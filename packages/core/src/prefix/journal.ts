import {randomBytes} from 'node:crypto'
import {open, readFile} from 'node:fs/promises'
import path from 'node:path'
import {fileError, writeFileAtomic} from '../util/fs.js'
import {currentProcess, type ProcessIdentity} from '../util/process-identity.js'

/** Everything outside the prefix's own files that a verb makes or removes. */
export type ObjectKind = 'domain' | 'network' | 'lease' | 'template-use' | 'layer' | 'file'

export interface JournalEntry {
  t: 'begin' | 'intent' | 'done' | 'removing' | 'removed' | 'end'
  run: string
  at: string
  verb?: string
  who?: ProcessIdentity
  kind?: ObjectKind
  name?: string
  outcome?: 'ok' | 'failed' | 'rolled-back'
  /** What recovery needs beyond the name (a snapshot's name, a template id). */
  detail?: Record<string, unknown>
}

/** An object an interrupted run was making (intent) or had made (done), or was removing. */
export interface JournalObject {
  kind: ObjectKind
  name: string
  state: 'intent' | 'done' | 'removing'
  detail?: Record<string, unknown>
}

export interface InterruptedRun {
  run: string
  verb: string
  who?: ProcessIdentity
  at: string
  detail?: Record<string, unknown>
  /** In the order they were recorded. */
  objects: JournalObject[]
}

let appended = 0

/**
 * The prefix's journal (PREFIX/.lago/journal): one JSON line per step, each fsynced before the
 * step it announces is taken. A verb records an object before it makes it and when it is made,
 * so after a SIGKILL at any moment the next command knows exactly what that verb had made,
 * and removes only that. A run that ends cleanly is compacted away.
 */
export class Journal {
  constructor(readonly file: string) {}

  static of(stateDir: string): Journal {
    return new Journal(path.join(stateDir, 'journal'))
  }

  async begin(verb: string, detail?: Record<string, unknown>): Promise<JournalRun> {
    const run = new JournalRun(this, randomBytes(6).toString('hex'))
    await this.append({t: 'begin', run: run.id, at: now(), verb, who: currentProcess(), detail})
    return run
  }

  async entries(): Promise<JournalEntry[]> {
    let text: string
    try {
      text = await readFile(this.file, 'utf8')
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
      throw fileError(this.file, 'read', error)
    }
    const entries: JournalEntry[] = []
    for (const line of text.split('\n')) {
      if (!line.trim()) continue
      try {
        entries.push(JSON.parse(line) as JournalEntry)
      } catch {
        // a line torn by a crash mid-write: the step it announced was never taken
      }
    }
    return entries
  }

  /** The last run that began and never ended, with the objects it had not removed again. */
  async interrupted(): Promise<InterruptedRun | undefined> {
    const entries = await this.entries()
    const ended = new Set(entries.filter((e) => e.t === 'end').map((e) => e.run))
    const begin = entries.filter((e) => e.t === 'begin' && !ended.has(e.run)).at(-1)
    if (!begin) return undefined
    const objects = new Map<string, JournalObject>()
    for (const entry of entries.filter((e) => e.run === begin.run && e.kind && e.name !== undefined)) {
      const key = `${entry.kind}:${entry.name}`
      if (entry.t === 'removed') objects.delete(key)
      else if (entry.t === 'intent' || entry.t === 'done' || entry.t === 'removing') {
        objects.set(key, {kind: entry.kind!, name: entry.name!, state: entry.t, detail: entry.detail ?? objects.get(key)?.detail})
      }
    }
    return {run: begin.run, verb: begin.verb ?? 'unknown', who: begin.who, at: begin.at, detail: begin.detail, objects: [...objects.values()]}
  }

  /** Forget every finished run (the journal is empty when no run is open). */
  async compact(): Promise<void> {
    const entries = await this.entries()
    const ended = new Set(entries.filter((e) => e.t === 'end').map((e) => e.run))
    const open = entries.filter((e) => !ended.has(e.run))
    await writeFileAtomic(this.file, open.map((e) => JSON.stringify(e) + '\n').join(''))
  }

  async append(entry: JournalEntry): Promise<void> {
    const sequence = ++appended
    crashPoint('before', sequence)
    const handle = await open(this.file, 'a', 0o644).catch((error: unknown) => {
      throw fileError(this.file, 'write', error)
    })
    try {
      await handle.write(JSON.stringify(entry) + '\n')
      await handle.sync()
    } finally {
      await handle.close()
    }
    crashPoint('after', sequence)
  }
}

export class JournalRun {
  constructor(
    readonly journal: Journal,
    readonly id: string,
  ) {}

  intent(kind: ObjectKind, name: string, detail?: Record<string, unknown>): Promise<void> {
    return this.journal.append({t: 'intent', run: this.id, at: now(), kind, name, detail})
  }

  done(kind: ObjectKind, name: string): Promise<void> {
    return this.journal.append({t: 'done', run: this.id, at: now(), kind, name})
  }

  removing(kind: ObjectKind, name: string, detail?: Record<string, unknown>): Promise<void> {
    return this.journal.append({t: 'removing', run: this.id, at: now(), kind, name, detail})
  }

  removed(kind: ObjectKind, name: string): Promise<void> {
    return this.journal.append({t: 'removed', run: this.id, at: now(), kind, name})
  }

  /** Record `kind:name` around `make`: intent before, done after. */
  async making<T>(kind: ObjectKind, name: string, make: () => Promise<T>, detail?: Record<string, unknown>): Promise<T> {
    await this.intent(kind, name, detail)
    const result = await make()
    await this.done(kind, name)
    return result
  }

  async end(outcome: 'ok' | 'failed' | 'rolled-back'): Promise<void> {
    await this.journal.append({t: 'end', run: this.id, at: now(), outcome})
    await this.journal.compact()
  }
}

function now(): string {
  return new Date().toISOString()
}

/**
 * Crash tests: LAGO_CRASH_AT=before:N or after:N kills this process with SIGKILL just before
 * or just after its Nth journal record is written, so a test can stop a verb at every step.
 */
function crashPoint(when: 'before' | 'after', sequence: number): void {
  const spec = process.env.LAGO_CRASH_AT
  if (!spec) return
  const [point, count] = spec.split(':')
  if (point === when && Number(count) === sequence) process.kill(process.pid, 'SIGKILL')
}
