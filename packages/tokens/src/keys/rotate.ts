import { toSeconds } from '../duration.js'
import { generateSigningKey } from './generate.js'
import { type SigningAlgorithm, type SigningKey, withState } from './signing-key.js'

export interface RotateKeysOptions {
  /**
   * How long a retired key stays published: the longest an access token it
   * signed can still be accepted (its lifetime plus the clock leeway).
   */
  retireAfter: number | string
  alg?: SigningAlgorithm
  now?: Date
}

/**
 * The keys a first start needs: one `active` key to sign with and one `next`
 * key already published for the first rotation.
 */
export async function initialKeys(
  options: { alg?: SigningAlgorithm; now?: Date } = {},
): Promise<SigningKey[]> {
  const now = options.now ?? new Date()
  return [
    await generateSigningKey({ alg: options.alg, state: 'active', now }),
    await generateSigningKey({ alg: options.alg, state: 'next', now }),
  ]
}

/** Drops retired keys whose every token has expired; keeps everything else as is. */
export function pruneRetiredKeys(
  keys: readonly SigningKey[],
  options: RotateKeysOptions,
): SigningKey[] {
  const retireAfterMs = toSeconds(options.retireAfter, 'retireAfter') * 1000
  const now = (options.now ?? new Date()).getTime()
  return keys.filter(
    (key) => key.state !== 'retired' || (key.retiredAt?.getTime() ?? 0) + retireAfterMs > now,
  )
}

/**
 * One rotation step, with overlap (SPEC §4): the published `next` key starts
 * signing, the active key retires but stays published, a fresh `next` key is
 * published, and retired keys past `retireAfter` are dropped. Pure: the
 * caller stores the result.
 */
export async function rotateKeys(
  keys: readonly SigningKey[],
  options: RotateKeysOptions,
): Promise<SigningKey[]> {
  const now = options.now ?? new Date()
  const kept = pruneRetiredKeys(keys, { ...options, now })
  const next = kept.find((key) => key.state === 'next')
  const rotated = kept
    .filter((key) => key.state !== 'next')
    .map((key) => (key.state === 'active' ? withState(key, 'retired', now) : key))
  const promoted = next
    ? withState(next, 'active', now)
    : await generateSigningKey({ alg: options.alg, state: 'active', now })
  return [
    ...rotated,
    promoted,
    await generateSigningKey({ alg: options.alg ?? promoted.alg, state: 'next', now }),
  ]
}
