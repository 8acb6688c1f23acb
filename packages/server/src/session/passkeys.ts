import {
  addPasskey,
  countChallengeAttempt,
  findPasskeyByCredentialId,
  findUserById,
  issueWebAuthnChallenge,
  listPasskeys,
  type Passkey,
  recordPasskeyUse,
  removePasskey,
  renamePasskey,
  takeWebAuthnChallenge,
  type User,
  type WebAuthnCeremony,
} from '@breakwater/db'
import {
  type AuthenticationResponseJSON,
  generateAuthenticationOptions,
  generateRegistrationOptions,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from '@simplewebauthn/server'
import { BreakwaterError } from '../errors.js'
import type { AuthenticatedSession } from '../guard/authenticate.js'
import { limitAttemptsFromIp } from '../guard/rate-limit.js'
import { requireRecentAuth, requireRecentSecondFactor } from '../guard/step-up.js'
import type { Runtime } from '../runtime.js'
import type { ClientInfo } from './client.js'
import { CHALLENGE_ATTEMPTS, needsSecondFactor } from './factors.js'
import { tokenDigest } from './mail-links.js'

/** How long the browser may take, and how long a challenge lives (SPEC §10 allows 5 min for a login). */
const CEREMONY_SECONDS = 300
/** The most passkeys one account may hold: enough for every device, bounded for the table. */
export const MAX_PASSKEYS = 20

/** WebAuthn L3 §7.1: a credential id longer than this is refused. */
const MAX_CREDENTIAL_ID_BYTES = 1023
/** What the `passkeys.public_key` column holds (base64url); real keys, ML-DSA's included, are far smaller. */
const MAX_PUBLIC_KEY_CHARACTERS = 8192

/** RFC 8176: `swk` for a synced (software-held) passkey, `hwk` for one bound to its device. */
export type PasskeyMethod = 'hwk' | 'swk'

/** A passkey as its owner sees it: no key material. */
export interface PasskeyView {
  readonly id: string
  readonly name: string
  /** Synced across the user's devices by their platform (iCloud Keychain, Google Password Manager…). */
  readonly synced: boolean
  readonly createdAt: string
  readonly lastUsedAt: string | null
}

export function passkeyView(passkey: Passkey): PasskeyView {
  return {
    id: passkey.id,
    name: passkey.name,
    synced: passkey.deviceType === 'multiDevice',
    createdAt: passkey.createdAt.toISOString(),
    lastUsedAt: passkey.lastUsedAt?.toISOString() ?? null,
  }
}

// Challenges are stored as the server's keyed digest, like every one-time secret.
const challengeDigest = (runtime: Runtime, challenge: string) =>
  runtime.secrets.digest('webauthn_challenge', challenge)

/** The WebAuthn user handle: the user's id, so it names nobody outside this server. */
const userHandle = (userId: string) => Buffer.from(userId, 'utf8').toString('base64url')

async function rememberChallenge(
  runtime: Runtime,
  challenge: string,
  purpose: WebAuthnCeremony,
  userId: string | null,
): Promise<void> {
  await issueWebAuthnChallenge(runtime.database.db, {
    challengeHash: challengeDigest(runtime, challenge),
    purpose,
    userId,
    ttlSeconds: CEREMONY_SECONDS,
    now: runtime.now(),
  })
}

/**
 * The library's challenge check, as a single-use take: the challenge in the signed
 * client data must be one this server issued for this ceremony (and user), and no
 * other response can use it after this one.
 */
function takesChallenge(runtime: Runtime, purpose: WebAuthnCeremony, userId: string | null) {
  return async (challenge: string): Promise<boolean> => {
    const taken = await takeWebAuthnChallenge(runtime.database.db, {
      challengeHash: challengeDigest(runtime, challenge),
      purpose,
      now: runtime.now(),
    })
    return taken !== undefined && taken.userId === userId
  }
}

/**
 * The user adding a passkey. A passkey signs in alone, so for a user whose logins
 * need a second factor (TOTP on), the recent proof must be one too: else a stolen
 * session and password would buy a lasting way round the authenticator app.
 */
async function registeringUser(runtime: Runtime, caller: AuthenticatedSession): Promise<User> {
  const user = await findUserById(runtime.database.db, caller.userId)
  if (!user) throw new BreakwaterError('SESSION_REVOKED')
  if (needsSecondFactor(user)) requireRecentSecondFactor(runtime, caller)
  else requireRecentAuth(runtime, caller)
  return user
}

/** `passkeys.registrationOptions` (step-up): what the browser's `navigator.credentials.create` needs. */
export async function passkeyRegistrationOptions(
  runtime: Runtime,
  caller: AuthenticatedSession,
): Promise<PublicKeyCredentialCreationOptionsJSON> {
  const user = await registeringUser(runtime, caller)
  const held = await listPasskeys(runtime.database.db, user.id)
  if (held.length >= MAX_PASSKEYS) throw tooMany()
  const rp = runtime.relyingParty()
  const options = await generateRegistrationOptions({
    rpName: rp.name,
    rpID: rp.id,
    userName: user.email,
    userDisplayName: user.displayName ?? user.email,
    userID: new Uint8Array(Buffer.from(user.id, 'utf8')),
    attestationType: 'none',
    excludeCredentials: held.map((p) => ({ id: p.credentialId, transports: [...p.transports] })),
    // Discoverable, so the passkey alone signs in; verified (PIN, biometrics), so it is two factors in one.
    authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
    timeout: CEREMONY_SECONDS * 1000,
  })
  await rememberChallenge(runtime, options.challenge, 'register', user.id)
  return options
}

function tooMany(): BreakwaterError {
  return new BreakwaterError('PASSKEY_REJECTED', {
    message: `An account holds at most ${MAX_PASSKEYS} passkeys: remove one first.`,
  })
}

/** `passkeys.register`: verifies the browser's attestation and stores the passkey under a name. */
export async function registerPasskey(
  runtime: Runtime,
  caller: AuthenticatedSession,
  input: { response: RegistrationResponseJSON; name?: string | undefined },
  client: ClientInfo,
): Promise<PasskeyView> {
  const user = await registeringUser(runtime, caller)
  const rp = runtime.relyingParty()
  const refuse = async (why: string) => {
    await runtime.audit({
      type: 'passkey.failed',
      userId: user.id,
      sessionId: caller.sessionId,
      ...client,
      details: { during: 'register', why },
    })
    return new BreakwaterError('PASSKEY_REJECTED')
  }
  let registration: Awaited<ReturnType<typeof verifyRegistrationResponse>>
  try {
    registration = await verifyRegistrationResponse({
      response: input.response,
      expectedChallenge: takesChallenge(runtime, 'register', user.id),
      expectedOrigin: [...rp.origins],
      expectedRPID: rp.id,
      requireUserVerification: true,
    })
  } catch {
    // The library's message may quote the response: it is not passed on.
    throw await refuse('not verified')
  }
  if (!registration.verified) throw await refuse('not verified')
  const info = registration.registrationInfo
  const publicKey = Buffer.from(info.credential.publicKey).toString('base64url')
  // The library takes the id and key from the authenticator data, which attestation
  // `none` leaves unsigned, and checks neither against the response's id nor for
  // size: bounded here to what WebAuthn allows and the table holds.
  if (
    info.credential.id !== input.response.id ||
    Buffer.from(info.credential.id, 'base64url').length > MAX_CREDENTIAL_ID_BYTES ||
    publicKey.length > MAX_PUBLIC_KEY_CHARACTERS
  )
    throw await refuse('malformed credential')
  const held = await listPasskeys(runtime.database.db, user.id)
  const added = await addPasskey(runtime.database.db, {
    userId: user.id,
    credentialId: info.credential.id,
    publicKey,
    counter: info.credential.counter,
    transports: info.credential.transports ?? [],
    deviceType: info.credentialDeviceType,
    backedUp: info.credentialBackedUp,
    name: input.name ?? `Passkey ${held.length + 1}`,
    maxPerUser: MAX_PASSKEYS,
    now: runtime.now(),
  })
  if (added === 'no-user') throw new BreakwaterError('SESSION_REVOKED')
  if (added === 'limit') throw tooMany()
  if (added === 'duplicate') throw await refuse('already registered')
  await runtime.audit({
    type: 'passkey.registered',
    userId: user.id,
    sessionId: caller.sessionId,
    ...client,
    details: { passkeyId: added.id, synced: added.deviceType === 'multiDevice' },
  })
  return passkeyView(added)
}

export async function listUserPasskeys(
  runtime: Runtime,
  caller: AuthenticatedSession,
): Promise<PasskeyView[]> {
  return (await listPasskeys(runtime.database.db, caller.userId)).map(passkeyView)
}

export async function renameUserPasskey(
  runtime: Runtime,
  caller: AuthenticatedSession,
  input: { id: string; name: string },
): Promise<void> {
  if (!(await renamePasskey(runtime.database.db, { userId: caller.userId, ...input })))
    throw new BreakwaterError('PASSKEY_NOT_FOUND')
}

export async function removeUserPasskey(
  runtime: Runtime,
  caller: AuthenticatedSession,
  id: string,
  client: ClientInfo,
): Promise<void> {
  const removed = await removePasskey(runtime.database.db, { userId: caller.userId, id })
  if (!removed) throw new BreakwaterError('PASSKEY_NOT_FOUND')
  await runtime.audit({
    type: 'passkey.removed',
    userId: caller.userId,
    sessionId: caller.sessionId,
    ...client,
    details: { passkeyId: removed.id },
  })
}

/** What `navigator.credentials.get` needs, for one ceremony. */
async function assertionOptions(
  runtime: Runtime,
  purpose: WebAuthnCeremony,
  userId: string | null,
): Promise<PublicKeyCredentialRequestOptionsJSON> {
  const held = userId === null ? [] : await listPasskeys(runtime.database.db, userId)
  const options = await generateAuthenticationOptions({
    rpID: runtime.relyingParty().id,
    allowCredentials: held.map((p) => ({ id: p.credentialId, transports: [...p.transports] })),
    userVerification: 'required',
    timeout: CEREMONY_SECONDS * 1000,
  })
  await rememberChallenge(runtime, options.challenge, purpose, userId)
  return options
}

/**
 * `auth.passkeyOptions`: without a challenge, a sign-in with any passkey of this
 * site (discoverable credentials, no user named); with a login challenge, the
 * second factor of that login (its user's passkeys; counts one of its 5 attempts).
 * Counted per client address, like every sign-in attempt.
 */
export async function passkeySignInOptions(
  runtime: Runtime,
  input: { challenge?: string | undefined },
  client: ClientInfo,
): Promise<PublicKeyCredentialRequestOptionsJSON> {
  await limitAttemptsFromIp(runtime, client.ip)
  if (input.challenge === undefined) return assertionOptions(runtime, 'sign_in', null)
  const pending = await countChallengeAttempt(runtime.database.db, {
    tokenHash: tokenDigest(runtime, 'mfa_challenge', input.challenge),
    maxAttempts: CHALLENGE_ATTEMPTS,
    now: runtime.now(),
  })
  if (!pending) throw expiredLogin()
  return assertionOptions(runtime, 'second_factor', pending.userId)
}

export function expiredLogin(): BreakwaterError {
  return new BreakwaterError('INVALID_CREDENTIALS', {
    message: 'This sign-in has expired: enter your password again.',
  })
}

/** `passkeys.assertionOptions`: a passkey of the signed-in user, to re-authenticate (step-up). */
export function passkeyReauthenticationOptions(
  runtime: Runtime,
  caller: AuthenticatedSession,
): Promise<PublicKeyCredentialRequestOptionsJSON> {
  return assertionOptions(runtime, 'reauthenticate', caller.userId)
}

/**
 * Checks a passkey assertion for one ceremony: a passkey of `userId` (of anyone,
 * for a sign-in), signing this server's single-use challenge for that ceremony,
 * from an allowed origin, for the RP ID, with user verification, and a
 * signature counter that moved on (for authenticators that keep one). Returns
 * the passkey and its RFC 8176 method, or `undefined`.
 */
export async function checkPasskey(
  runtime: Runtime,
  response: AuthenticationResponseJSON,
  purpose: WebAuthnCeremony,
  userId: string | null,
): Promise<{ passkey: Passkey; method: PasskeyMethod } | undefined> {
  const passkey = await findPasskeyByCredentialId(runtime.database.db, response.id)
  if (!passkey || (userId !== null && passkey.userId !== userId)) return undefined
  // A discoverable credential names its user: it must be the passkey's, and a
  // sign-in, which named nobody beforehand, needs it (WebAuthn §7.2 step 6).
  const handle = response.response.userHandle
  if (handle === undefined ? userId === null : handle !== userHandle(passkey.userId))
    return undefined
  const rp = runtime.relyingParty()
  let verified: Awaited<ReturnType<typeof verifyAuthenticationResponse>>
  try {
    verified = await verifyAuthenticationResponse({
      response,
      expectedChallenge: takesChallenge(runtime, purpose, userId),
      expectedOrigin: [...rp.origins],
      expectedRPID: rp.id,
      credential: {
        id: passkey.credentialId,
        publicKey: new Uint8Array(Buffer.from(passkey.publicKey, 'base64url')),
        counter: passkey.counter,
        transports: [...passkey.transports],
      },
      requireUserVerification: true,
    })
  } catch {
    return undefined
  }
  if (!verified.verified) return undefined
  const info = verified.authenticationInfo
  const recorded = await recordPasskeyUse(runtime.database.db, {
    id: passkey.id,
    readCounter: passkey.counter,
    counter: info.newCounter,
    backedUp: info.credentialBackedUp,
    now: runtime.now(),
  })
  if (!recorded) return undefined
  return { passkey, method: info.credentialDeviceType === 'multiDevice' ? 'swk' : 'hwk' }
}
