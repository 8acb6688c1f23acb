import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto'

// SPEC §4.1: a refresh token presented again within the grace window must get
// the same successor back, yet the database keeps only hashes. The successor is
// therefore stored sealed under a key derived from the token it replaces: only
// someone who holds that previous token can open it, and a database dump alone
// opens nothing. No server-wide secret is needed, so any instance can open it.

const VERSION = 'v1'
const INFO = 'breakwater/refresh-successor/v1'

function keyFor(previousToken: string): Buffer {
  return Buffer.from(
    hkdfSync('sha256', Buffer.from(previousToken, 'utf8'), Buffer.alloc(0), INFO, 32),
  )
}

/** Seals `successor` so that only the holder of `previousToken` can open it (AES-256-GCM). */
export function sealSuccessor(previousToken: string, successor: string): string {
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', keyFor(previousToken), iv)
  const body = Buffer.concat([cipher.update(successor, 'utf8'), cipher.final()])
  return [
    VERSION,
    iv.toString('base64url'),
    body.toString('base64url'),
    cipher.getAuthTag().toString('base64url'),
  ].join('.')
}

/** Opens what {@link sealSuccessor} sealed; `null` for a wrong token or a damaged seal. */
export function openSuccessor(previousToken: string, sealed: string): string | null {
  const [version, iv, body, tag] = typeof sealed === 'string' ? sealed.split('.') : []
  if (version !== VERSION || !iv || !body || !tag) return null
  try {
    const decipher = createDecipheriv(
      'aes-256-gcm',
      keyFor(previousToken),
      Buffer.from(iv, 'base64url'),
    )
    decipher.setAuthTag(Buffer.from(tag, 'base64url'))
    return Buffer.concat([
      decipher.update(Buffer.from(body, 'base64url')),
      decipher.final(),
    ]).toString('utf8')
  } catch {
    return null
  }
}
