import { findUserById } from '@breakwater/db'
import type { AuthenticationResponseJSON } from '@simplewebauthn/server'
import { BreakwaterError } from '../errors.js'
import { limitAttemptsFromIp } from '../guard/rate-limit.js'
import type { Runtime } from '../runtime.js'
import type { ClientInfo } from './client.js'
import { checkPasskey } from './passkeys.js'
import { openSession, type SignedIn } from './sign-in.js'

/**
 * `auth.loginWithPasskey`: a verified passkey (discoverable, user-verified: the
 * device and the PIN or biometrics behind it) is a whole sign-in; no second factor
 * is asked. The session's `amr` is `["hwk"]` or, for a synced passkey, `["swk"]`.
 */
export async function signInWithPasskey(
  runtime: Runtime,
  response: AuthenticationResponseJSON,
  client: ClientInfo,
): Promise<SignedIn> {
  await limitAttemptsFromIp(runtime, client.ip)
  const proved = await checkPasskey(runtime, response, 'sign_in', null)
  const user = proved && (await findUserById(runtime.database.db, proved.passkey.userId))
  if (!proved || !user) {
    await runtime.audit({
      type: 'login.failed',
      userId: proved?.passkey.userId ?? null,
      ...client,
      details: { method: 'passkey' },
    })
    throw new BreakwaterError('INVALID_CREDENTIALS', { message: 'This passkey was not accepted.' })
  }
  if (runtime.options.requireEmailVerification && user.emailVerifiedAt === null)
    throw new BreakwaterError('EMAIL_NOT_VERIFIED')
  await runtime.audit({
    type: 'passkey.used',
    userId: user.id,
    ...client,
    details: { passkeyId: proved.passkey.id, during: 'login' },
  })
  return openSession(runtime, user, client, 'passkey', [proved.method])
}
