/**
 * A --custom-source as OST passed it to the original (repoman source syntax): `file:///dir`,
 * `dir:/dir`, a plain path; `:only-missing` and other `:filter` suffixes of local paths dropped.
 */
export function customSourcePath(source: string): string {
  const local = source.replace(/^file:\/\//, '').replace(/^(dir|rec):/, '')
  return local.replace(/:[a-z-]+$/, '')
}
