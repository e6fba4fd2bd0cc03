const UNITS: Record<string, number> = {'': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4}

/** "10G", "512M", "1.5GiB", 4096 → bytes. A bare number uses `defaultUnit`. */
export function parseSize(value: string | number, defaultUnit = ''): number {
  if (typeof value === 'number') return value * UNITS[defaultUnit.toUpperCase()]
  const match = /^\s*([0-9]+(?:\.[0-9]+)?)\s*([KkMmGgTt]?)(?:i?[Bb])?\s*$/.exec(value)
  if (!match) throw new Error(`"${value}" is not a size (examples: 512M, 10G, 2048)`)
  const unit = match[2] ? match[2].toUpperCase() : defaultUnit.toUpperCase()
  return Math.round(Number(match[1]) * UNITS[unit])
}
