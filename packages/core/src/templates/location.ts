/** Whether a location is an http(s) URL (else it is a path, or a `file://` URL). */
export function isUrl(location: string): boolean {
  return /^https?:\/\//i.test(location)
}
