import {chmod, readFile, writeFile} from 'node:fs/promises'

export interface KeyPair {
  privateKey: string
  publicKey: string
}

/** An ed25519 key pair in OpenSSH format (usable by ssh, ansible and ssh2 alike). */
export async function generateKeyPair(comment: string): Promise<KeyPair> {
  const ssh2 = await import('ssh2')
  const pair = ssh2.default.utils.generateKeyPairSync('ed25519', {comment})
  return {privateKey: pair.private, publicKey: pair.public.trim()}
}

export async function writeKeyPair(privatePath: string, pair: KeyPair): Promise<void> {
  await writeFile(privatePath, pair.privateKey, {mode: 0o600})
  await chmod(privatePath, 0o600)
  await writeFile(`${privatePath}.pub`, `${pair.publicKey}\n`, {mode: 0o644})
}

export async function readPrivateKey(privatePath: string): Promise<string> {
  return readFile(privatePath, 'utf8')
}
