/** Things registered by id (plugins add theirs); adding an id again replaces it, so twice is harmless. */
export interface Registry<T> {
  add(item: T): void
  remove(id: string): void
  find(id: string): T | undefined
  /** In registration order. */
  all(): T[]
}

/**
 * A process-wide registry, kept on globalThis under `key` so that a plugin which loads a
 * second copy of @lago/core still registers into the one the CLI reads.
 */
export function globalRegistry<T>(key: string, idOf: (item: T) => string, initial: T[] = []): Registry<T> {
  const symbol = Symbol.for(key)
  const global = globalThis as Record<symbol, Map<string, T> | undefined>
  const items = () => (global[symbol] ??= new Map(initial.map((item) => [idOf(item), item])))
  return {
    add: (item) => void items().set(idOf(item), item),
    remove: (id) => void items().delete(id),
    find: (id) => items().get(id),
    all: () => [...items().values()],
  }
}
