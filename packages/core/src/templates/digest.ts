import {createHash} from 'node:crypto'
import {createReadStream} from 'node:fs'
import {LagoError} from '../errors.js'

export type DigestAlgorithm = 'sha1' | 'sha256' | 'sha512'

/** An expected digest: the algorithm (from the prefix or the length) and lower-case hex. */
export interface Digest {
  algorithm: DigestAlgorithm
  hex: string
}

const BY_LENGTH: Record<number, DigestAlgorithm> = {40: 'sha1', 64: 'sha256', 128: 'sha512'}

/**
 * A checksum as people and repositories write it: "sha256:HEX", a bare HEX (sha1, sha256 or
 * sha512 by length), "HEX  filename" (sha256sum output) or "SHA256 (file) = HEX" (BSD style).
 * `what` names where it came from, for the error.
 */
export function parseDigest(text: string, what: string): Digest {
  const trimmed = text.trim()
  const bsd = /^(SHA1|SHA256|SHA512)\s*\([^)]*\)\s*=\s*([0-9a-fA-F]+)$/.exec(trimmed.split('\n')[0])
  const prefixed = /^(sha1|sha256|sha512)[:=]([0-9a-fA-F]+)$/i.exec(trimmed.split(/\s+/)[0])
  const [named, hex] = bsd ? [bsd[1].toLowerCase(), bsd[2]] : prefixed ? [prefixed[1].toLowerCase(), prefixed[2]] : [undefined, trimmed.split(/\s+/)[0]]
  const algorithm = BY_LENGTH[hex.length]
  if (!/^[0-9a-fA-F]+$/.test(hex) || !algorithm || (named && named !== algorithm)) {
    throw new LagoError('TEMPLATE', `${what} holds no sha1, sha256 or sha512 digest: "${trimmed.slice(0, 100)}".`, {
      hint: 'Write it as "sha256:<64 hex digits>" (or a bare sha1/sha256/sha512 hex digest, as sha256sum prints it).',
      detail: {value: trimmed.slice(0, 200)},
    })
  }
  return {algorithm, hex: hex.toLowerCase()}
}

export function formatDigest(digest: Digest): string {
  return `${digest.algorithm}:${digest.hex}`
}

/** The digest of a file's content, read as a stream. */
export async function fileDigest(file: string, algorithm: DigestAlgorithm = 'sha256'): Promise<Digest> {
  const hash = createHash(algorithm)
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer)
  return {algorithm, hex: hash.digest('hex')}
}

/** The digest of a text (a golden environment's description). */
export function textDigest(text: string | Buffer, algorithm: DigestAlgorithm = 'sha256'): Digest {
  return {algorithm, hex: createHash(algorithm).update(text).digest('hex')}
}
