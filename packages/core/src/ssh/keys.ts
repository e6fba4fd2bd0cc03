import {generateKeyPairSync, randomBytes} from 'node:crypto'
import {chmod, readFile, writeFile} from 'node:fs/promises'

export interface KeyPair {
  privateKey: string
  publicKey: string
}

/**
 * An ed25519 key pair in OpenSSH format (usable by ssh, ansible and ssh2 alike). Encoded here
 * (PROTOCOL.key's openssh-key-v1, unencrypted) so that `init` need not load ssh2.
 */
export async function generateKeyPair(comment: string): Promise<KeyPair> {
  const {publicKey, privateKey} = generateKeyPairSync('ed25519')
  const pub = Buffer.from(publicKey.export({format: 'jwk'}).x!, 'base64url')
  const seed = Buffer.from(privateKey.export({format: 'jwk'}).d!, 'base64url')
  const publicBlob = Buffer.concat([sshString('ssh-ed25519'), sshString(pub)])
  const check = randomBytes(4)
  const secret = Buffer.concat([check, check, publicBlob, sshString(Buffer.concat([seed, pub])), sshString(comment)])
  const padding = Buffer.from(Array.from({length: (8 - (secret.length % 8)) % 8}, (_, i) => i + 1))
  const body = Buffer.concat([
    Buffer.from('openssh-key-v1\0', 'latin1'),
    sshString('none'),
    sshString('none'),
    sshString(''),
    uint32(1),
    sshString(publicBlob),
    sshString(Buffer.concat([secret, padding])),
  ])
  const lines = body.toString('base64').match(/.{1,70}/g)!
  return {
    privateKey: `-----BEGIN OPENSSH PRIVATE KEY-----\n${lines.join('\n')}\n-----END OPENSSH PRIVATE KEY-----\n`,
    publicKey: `ssh-ed25519 ${publicBlob.toString('base64')} ${comment}`,
  }
}

function uint32(value: number): Buffer {
  const buffer = Buffer.alloc(4)
  buffer.writeUInt32BE(value)
  return buffer
}

function sshString(value: string | Buffer): Buffer {
  const bytes = typeof value === 'string' ? Buffer.from(value) : value
  return Buffer.concat([uint32(bytes.length), bytes])
}

export async function writeKeyPair(privatePath: string, pair: KeyPair): Promise<void> {
  await writeFile(privatePath, pair.privateKey, {mode: 0o600})
  await chmod(privatePath, 0o600)
  await writeFile(`${privatePath}.pub`, `${pair.publicKey}\n`, {mode: 0o644})
}

export async function readPrivateKey(privatePath: string): Promise<string> {
  return readFile(privatePath, 'utf8')
}
