// SPEC §10 passkeys over real HTTP, with a software authenticator making real
// ES256 signatures: registration under step-up, named passkeys, sign-in (amr hwk /
// swk), a passkey as the second factor and for step-up, and what an attacker can
// send: forged, replayed, misdirected, expired, cloned, malformed.
import { forEachDialect } from '@breakwater/db/testing'
import { decodeBase32IgnorePadding } from '@oslojs/encoding'
import { generateHOTP } from '@oslojs/otp'
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server'
import t, { type Test } from 'tap'
import {
  type AuthResult,
  Client,
  manualClock,
  PASSWORD,
  type Reply,
  registerBearer,
  startServer,
  uniqueEmail,
} from './helpers.js'
import {
  type Deviations,
  SoftwareAuthenticator,
  type StoredCredential,
  strangerKey,
} from './webauthn-authenticator.js'

interface PasskeyView {
  id: string
  name: string
  synced: boolean
  createdAt: string
  lastUsedAt: string | null
}

interface Challenge {
  mfaRequired: true
  challenge: string
  methods: string[]
}

/** The claims of an access token, read without verifying (the server verified it). */
function claimsOf(token: string | undefined): {
  sub?: string
  amr?: string[]
  auth_time?: number
} {
  return JSON.parse(Buffer.from(token?.split('.')[1] ?? '', 'base64url').toString('utf8') || '{}')
}

/** Asserts a status and returns the reply; throws on another, so later steps do not run on nothing. */
function expectStatus<T>(t: Test, reply: Reply<T>, status: number, message: string): Reply<T> {
  t.equal(reply.status, status, message)
  if (reply.status !== status)
    throw new Error(`${message}: got ${reply.status} ${JSON.stringify(reply.body)}`)
  return reply
}

const onlyCredential = (authenticator: SoftwareAuthenticator): StoredCredential => {
  const [credential, ...more] = authenticator.credentials.values()
  if (!credential || more.length) throw new Error('expected exactly one credential')
  return credential
}

t.test('passkeys (SPEC §10)', (t) =>
  forEachDialect<Test>(t, async (t, database) => {
    const clock = manualClock()
    const server = await startServer(database, {
      clock: clock.read,
      loginIpLimit: '100000/1m',
      loginAccountLimit: '1000/15m',
    })
    t.teardown(server.close)
    // No publicUrl: the RP ID is `localhost`, and the app is opened at http://localhost:<port>.
    const port = new URL(server.url).port
    const ORIGIN = `http://localhost:${port}`
    const db = database.db

    const newAccount = async (prefix = 'pk') => {
      const account = await registerBearer(server.url, uniqueEmail(prefix))
      return { ...account, userId: account.result.user.id }
    }
    const creationOptions = async (client: Client) =>
      expectStatus(
        t,
        await client.mutation<PublicKeyCredentialCreationOptionsJSON>(
          'passkeys.registrationOptions',
        ),
        200,
        'registration options',
      ).data
    const register = (client: Client, response: RegistrationResponseJSON, name?: string) =>
      client.mutation<{ passkey: PasskeyView }>('passkeys.register', {
        response,
        ...(name === undefined ? {} : { name }),
      })
    /** A new passkey on `authenticator`, through both calls a browser makes. */
    const addPasskey = async (
      client: Client,
      authenticator: SoftwareAuthenticator,
      name?: string,
    ) =>
      expectStatus(
        t,
        await register(client, authenticator.register(await creationOptions(client), ORIGIN), name),
        200,
        `registered ${name ?? 'a passkey'}`,
      ).data.passkey
    const signInOptions = async (input?: unknown) =>
      expectStatus(
        t,
        await new Client(server.url).mutation<PublicKeyCredentialRequestOptionsJSON>(
          'auth.passkeyOptions',
          input,
        ),
        200,
        'sign-in options',
      ).data
    const loginWith = (
      response: unknown,
      transport: 'bearer' | 'cookie' = 'bearer',
      client?: Client,
    ) =>
      (client ?? new Client(server.url)).mutation<AuthResult>('auth.loginWithPasskey', {
        response,
        transport,
      })
    const signIn = async (
      authenticator: SoftwareAuthenticator,
      deviate: Deviations & { credentialId?: string } = {},
      origin = ORIGIN,
    ) => loginWith(authenticator.authenticate(await signInOptions(), origin, deviate))
    const auditTypes = async (userId: string) =>
      (
        await db
          .selectFrom('auth_events')
          .select(['type', 'details'])
          .where('user_id', '=', userId)
          .orderBy('occurred_at')
          .execute()
      ).map((row) => ({ type: row.type, details: row.details }))
    const storedCounter = async (credentialId: string) =>
      Number(
        (
          await db
            .selectFrom('passkeys')
            .select('counter')
            .where('credential_id', '=', credentialId)
            .executeTakeFirstOrThrow()
        ).counter,
      )

    await t.test('registration: options, step-up, several named passkeys, list', async (t) => {
      const owner = await newAccount()
      const laptop = new SoftwareAuthenticator({ counter: 'incrementing' })
      const phone = new SoftwareAuthenticator({ flags: { be: true, bs: true } })
      const tablet = new SoftwareAuthenticator()

      const options = await creationOptions(owner.client)
      t.equal(options.rp.id, 'localhost', 'RP ID without publicUrl')
      t.equal(options.user.id, Buffer.from(owner.userId).toString('base64url'), 'user handle')
      t.equal(options.user.name, owner.result.user.email)
      t.match(options.authenticatorSelection, {
        residentKey: 'required',
        userVerification: 'required',
      })
      t.equal(options.attestation, 'none')
      t.ok(
        options.pubKeyCredParams.some((p) => p.alg === -7),
        'ES256 offered',
      )
      t.same(options.excludeCredentials, [], 'nothing to exclude yet')
      const first = await register(owner.client, laptop.register(options, ORIGIN), 'Laptop')
      expectStatus(t, first, 200, 'the laptop registers')
      t.same(Object.keys(first.data.passkey).sort(), [
        'createdAt',
        'id',
        'lastUsedAt',
        'name',
        'synced',
      ])
      t.match(first.data.passkey, { name: 'Laptop', synced: false, lastUsedAt: null })
      t.equal(first.data.passkey.createdAt, new Date(clock.now).toISOString())
      // Listed oldest first: a second apart, so the order is not the ids'.
      clock.advance(1)
      const second = await addPasskey(owner.client, phone, 'Phone')
      t.equal(second.synced, true, 'backup-eligible: a synced passkey')
      clock.advance(1)
      const again = await creationOptions(owner.client)
      t.same(
        again.excludeCredentials?.map((c) => c.id).sort(),
        [onlyCredential(laptop).id, onlyCredential(phone).id].sort(),
        'the next options exclude what the user holds',
      )
      t.throws(() => laptop.register(again, ORIGIN), /InvalidStateError/, 'which a browser obeys')
      const third = expectStatus(
        t,
        await register(owner.client, tablet.register(again, ORIGIN)),
        200,
        'unnamed',
      ).data.passkey
      t.equal(third.name, 'Passkey 3', 'a default name')

      const listed = expectStatus(
        t,
        await owner.client.query<{ passkeys: PasskeyView[] }>('passkeys.list'),
        200,
        'list',
      ).data.passkeys
      t.same(
        listed.map((p) => p.name),
        ['Laptop', 'Phone', 'Passkey 3'],
        'all three, oldest first',
      )
      t.same(
        listed.map((p) => p.synced),
        [false, true, false],
      )
      // No key material leaves the server: neither credential ids nor public keys.
      const rows = await db
        .selectFrom('passkeys')
        .select(['credential_id', 'public_key'])
        .where('user_id', '=', owner.userId)
        .execute()
      t.equal(rows.length, 3)
      const secrets = rows.flatMap((row) => [row.credential_id, row.public_key])
      for (const [what, body] of [
        ['passkeys.list', JSON.stringify(listed)],
        ['passkeys.register', JSON.stringify(first.body)],
      ] as const)
        t.notOk(
          secrets.some((secret) => body.includes(secret)),
          `${what} shows no credential id or public key`,
        )
      const otherOwner = await newAccount()
      t.same(
        (await otherOwner.client.query<{ passkeys: PasskeyView[] }>('passkeys.list')).data.passkeys,
        [],
        "nobody sees another's passkeys",
      )

      // Step-up: past stepUpMaxAge (10 min), adding or removing a passkey needs a fresh proof.
      const pending = await creationOptions(owner.client)
      clock.advance(11 * 60)
      const late = await owner.client.mutation('passkeys.registrationOptions')
      t.equal(late.status, 401)
      t.equal(late.reason, 'REAUTH_REQUIRED', 'registration options need a recent proof')
      const stale = new SoftwareAuthenticator()
      t.equal(
        (await register(owner.client, stale.register(pending, ORIGIN))).reason,
        'REAUTH_REQUIRED',
        'so does registering, even with options fetched in time',
      )
      t.equal(
        (await owner.client.mutation('passkeys.remove', { id: third.id })).reason,
        'REAUTH_REQUIRED',
        'so does removing',
      )
      t.equal((await owner.client.query('passkeys.list')).status, 200, 'listing goes on')

      // Re-authenticating with a passkey renews auth_time.
      const reauthOptions = expectStatus(
        t,
        await owner.client.mutation<PublicKeyCredentialRequestOptionsJSON>(
          'passkeys.reauthenticationOptions',
        ),
        200,
        'reauthentication options',
      ).data
      t.same(
        reauthOptions.allowCredentials?.map((c) => c.id).sort(),
        [laptop, phone, tablet].map((a) => onlyCredential(a).id).sort(),
        "the user's own passkeys",
      )
      t.equal(reauthOptions.userVerification, 'required')
      const renewed = await owner.client.mutation<{ tokens: { accessToken: string } }>(
        'auth.reauthenticate',
        { passkey: laptop.authenticate(reauthOptions, ORIGIN) },
      )
      expectStatus(t, renewed, 200, 'a passkey re-authenticates')
      const renewedClaims = claimsOf(renewed.data.tokens.accessToken)
      t.equal(renewedClaims.auth_time, Math.floor(clock.now / 1000), 'auth_time renewed')
      t.same(renewedClaims.amr, ['hwk'])
      owner.client.bearer = renewed.data.tokens.accessToken
      const bySynced = await owner.client.mutation<{ tokens: { accessToken: string } }>(
        'auth.reauthenticate',
        {
          passkey: phone.authenticate(
            (
              await owner.client.mutation<PublicKeyCredentialRequestOptionsJSON>(
                'passkeys.reauthenticationOptions',
              )
            ).data,
            ORIGIN,
          ),
        },
      )
      t.same(claimsOf(bySynced.data.tokens?.accessToken).amr, ['swk'], 'a synced passkey: swk')
      t.equal(
        expectStatus(
          t,
          await register(
            owner.client,
            stale.register(await creationOptions(owner.client), ORIGIN),
            'Late',
          ),
          200,
          'after the step-up it registers',
        ).data.passkey.name,
        'Late',
      )

      // Rename: the owner's only, a sane name.
      const renamed = await owner.client.mutation('passkeys.rename', {
        id: first.data.passkey.id,
        name: '  Work laptop  ',
      })
      t.equal(renamed.status, 200)
      for (const name of ['', '   ', 'x'.repeat(65), 'tab\there', 'new\nline'])
        t.equal(
          (await owner.client.mutation('passkeys.rename', { id: third.id, name })).status,
          400,
          `refused name ${JSON.stringify(name.slice(0, 10))}`,
        )
      const intruder = await newAccount()
      for (const path of ['passkeys.rename', 'passkeys.remove'] as const) {
        const reply = await intruder.client.mutation(path, { id: third.id, name: 'Mine' })
        t.equal(reply.status, 404, `${path} of another user's passkey`)
        t.equal(reply.reason, 'PASSKEY_NOT_FOUND')
      }
      t.equal(
        (await owner.client.mutation('passkeys.rename', { id: 'not-a-uuid', name: 'x' })).reason,
        'PASSKEY_NOT_FOUND',
      )
      t.same(
        (await owner.client.query<{ passkeys: PasskeyView[] }>('passkeys.list')).data.passkeys.map(
          (p) => p.name,
        ),
        ['Work laptop', 'Phone', 'Passkey 3', 'Late'],
        'renamed (trimmed); nothing else changed',
      )

      // Remove: then it no longer signs in.
      expectStatus(t, await signIn(tablet), 200, 'the tablet signs in before')
      expectStatus(
        t,
        await owner.client.mutation('passkeys.remove', { id: third.id }),
        200,
        'removed',
      )
      t.equal(
        (await owner.client.mutation('passkeys.remove', { id: third.id })).reason,
        'PASSKEY_NOT_FOUND',
        'once',
      )
      const removed = await signIn(tablet)
      t.equal(removed.status, 401)
      t.equal(removed.reason, 'INVALID_CREDENTIALS', 'a removed passkey does not sign in')
      t.equal(
        (await owner.client.query<{ passkeys: PasskeyView[] }>('passkeys.list')).data.passkeys
          .length,
        3,
      )
      const types = (await auditTypes(owner.userId)).map((e) => e.type)
      t.equal(types.filter((type) => type === 'passkey.registered').length, 4, 'audited: 4 added')
      t.equal(types.filter((type) => type === 'passkey.removed').length, 1, 'audited: removed')
    })

    await t.test('sign-in with a passkey: bearer and cookie, hwk and swk', async (t) => {
      const owner = await newAccount()
      const laptop = new SoftwareAuthenticator({ counter: 'incrementing' })
      const phone = new SoftwareAuthenticator({ flags: { be: true, bs: true } })
      await addPasskey(owner.client, laptop, 'Laptop')
      await addPasskey(owner.client, phone, 'Phone')
      clock.advance(60)

      const options = await signInOptions()
      t.equal(options.rpId, 'localhost')
      t.same(options.allowCredentials, [], 'discoverable: no user named')
      t.equal(options.userVerification, 'required')
      const bearer = await loginWith(laptop.authenticate(options, ORIGIN), 'bearer')
      expectStatus(t, bearer, 200, 'a passkey signs in (bearer)')
      t.equal(bearer.data.user.id, owner.userId)
      t.same(bearer.setCookies, [], 'bearer: no cookie')
      const claims = claimsOf(bearer.data.tokens?.accessToken)
      t.equal(claims.sub, owner.userId)
      t.same(claims.amr, ['hwk'], 'a device-bound passkey: hwk')
      t.equal(claims.auth_time, Math.floor(clock.now / 1000))

      const browser = new Client(server.url)
      const cookie = await loginWith(
        phone.authenticate(await signInOptions(), ORIGIN),
        'cookie',
        browser,
      )
      expectStatus(t, cookie, 200, 'a passkey signs in (cookie)')
      t.equal(cookie.data.tokens, undefined, 'cookie: no tokens in the body')
      t.same(
        claimsOf(browser.jar.get('bw_access')?.value).amr,
        ['swk'],
        'a synced passkey: swk, in the cookie',
      )
      const listed = (await browser.query<{ passkeys: PasskeyView[] }>('passkeys.list')).data
        .passkeys
      t.same(
        listed.map((p) => p.lastUsedAt),
        [new Date(clock.now).toISOString(), new Date(clock.now).toISOString()],
        'both show their last use; the cookie session works',
      )
      // A synced passkey keeps no counter: it signs in again and again.
      expectStatus(t, await signIn(phone), 200, 'again')
      expectStatus(t, await signIn(phone), 200, 'and again')
      t.equal(await storedCounter(onlyCredential(phone).id), 0)
      t.equal(
        await storedCounter(onlyCredential(laptop).id),
        onlyCredential(laptop).counter,
        "the laptop's counter is kept",
      )
      const events = await auditTypes(owner.userId)
      t.equal(events.filter((e) => e.type === 'passkey.used').length, 4, 'audited: 4 uses')
      t.same(
        events.filter((e) => e.type === 'login.succeeded').map((e) => e.details),
        [
          { method: 'passkey' },
          { method: 'passkey' },
          { method: 'passkey' },
          { method: 'passkey' },
        ],
        'each sign-in audited as a passkey one',
      )
    })

    await t.test('forged, misdirected, replayed, expired and cloned assertions', async (t) => {
      const owner = await newAccount()
      const other = await newAccount()
      const key = new SoftwareAuthenticator({ counter: 'incrementing' })
      await addPasskey(owner.client, key, 'Key')
      const credential = onlyCredential(key)
      const passkeyLoginFailures = async () =>
        (
          await db
            .selectFrom('auth_events')
            .select('details')
            .where('type', '=', 'login.failed')
            .execute()
        ).filter((row) => (row.details as { method?: string } | null)?.method === 'passkey').length
      const failuresBefore = await passkeyLoginFailures()
      let refusals = 0
      const refused = async (reply: Promise<Reply<AuthResult>>, message: string) => {
        const r = await reply
        refusals++
        t.equal(r.status, 401, message)
        t.equal(r.reason, 'INVALID_CREDENTIALS', `${message}: INVALID_CREDENTIALS`)
        t.equal(r.data, undefined, `${message}: no session`)
      }

      await refused(signIn(key, { signWith: strangerKey() }), 'a signature by another key')
      const tampered = key.authenticate(await signInOptions(), ORIGIN)
      const signature = Buffer.from(tampered.response.signature, 'base64url')
      signature[signature.length - 1]! ^= 1
      tampered.response.signature = signature.toString('base64url')
      await refused(loginWith(tampered), 'a signature with one bit flipped')
      for (const origin of [
        `http://evil.localhost:${port}`,
        'https://attacker.example',
        `https://localhost:${port}`,
        `http://localhost:${Number(port) + 1}`,
        server.url, // http://127.0.0.1:<port>: an IP is never under the RP ID
      ])
        await refused(signIn(key, {}, origin), `origin ${origin}`)
      await refused(signIn(key, { rpId: 'attacker.example' }), 'the RP ID hash of another site')
      await refused(signIn(key, { rpId: 'evil.localhost' }), 'the RP ID hash of a subdomain')
      await refused(signIn(key, { flags: { uv: false } }), 'no user verification')
      await refused(signIn(key, { flags: { up: false, uv: true } }), 'no user presence')
      await refused(signIn(key, { type: 'webauthn.create' }), 'client data of a registration')
      await refused(
        (async () => {
          const response = key.authenticate(await signInOptions(), ORIGIN)
          response.response.userHandle = Buffer.from(other.userId).toString('base64url')
          return loginWith(response)
        })(),
        'a user handle naming someone else',
      )
      await refused(
        (async () => {
          const response = key.authenticate(await signInOptions(), ORIGIN)
          delete response.response.userHandle
          return loginWith(response)
        })(),
        'no user handle in a discoverable sign-in',
      )
      await refused(
        (async () => {
          const response = key.authenticate(await signInOptions(), ORIGIN)
          return loginWith({ ...response, id: 'A'.repeat(43), rawId: 'A'.repeat(43) })
        })(),
        'an unknown credential',
      )

      // The same response twice: the challenge is spent by the first.
      const once = key.authenticate(await signInOptions(), ORIGIN)
      expectStatus(t, await loginWith(once), 200, 'the honest response signs in')
      await refused(loginWith(once), 'replayed')

      // A challenge of another ceremony, or one the server never issued.
      const registration = await creationOptions(owner.client)
      await refused(
        loginWith(
          key.authenticate({ challenge: registration.challenge, rpId: 'localhost' }, ORIGIN),
        ),
        'a registration challenge used to sign in',
      )
      const reauth = (
        await owner.client.mutation<PublicKeyCredentialRequestOptionsJSON>(
          'passkeys.reauthenticationOptions',
        )
      ).data
      await refused(
        loginWith(key.authenticate(reauth, ORIGIN)),
        'a step-up challenge used to sign in',
      )
      await refused(
        loginWith(
          key.authenticate(
            { challenge: Buffer.from('made up by the client').toString('base64url') },
            ORIGIN,
          ),
        ),
        'a challenge never issued',
      )
      const signInChallenge = await signInOptions()
      const asReauth = await owner.client.mutation('auth.reauthenticate', {
        passkey: key.authenticate(signInChallenge, ORIGIN),
      })
      t.equal(asReauth.reason, 'INVALID_CREDENTIALS', 'a sign-in challenge used to step up')
      expectStatus(
        t,
        await owner.client.mutation('auth.reauthenticate', {
          passkey: key.authenticate(reauth, ORIGIN),
        }),
        200,
        'while the step-up challenge still serves its own ceremony',
      )

      // A challenge lives 5 minutes.
      const expiring = await signInOptions()
      clock.advance(301)
      await refused(loginWith(key.authenticate(expiring, ORIGIN)), 'an expired challenge')
      const inTime = await signInOptions()
      clock.advance(299)
      expectStatus(t, await loginWith(key.authenticate(inTime, ORIGIN)), 200, 'in time')

      // A counter-keeping authenticator: a counter that does not move or goes back is a clone.
      const counter = await storedCounter(credential.id)
      t.ok(counter >= 2, `counter kept (${counter})`)
      await refused(signIn(key, { counter }), 'the same counter again')
      await refused(signIn(key, { counter: counter - 1 }), 'a counter gone back')
      await refused(signIn(key, { counter: 0 }), 'a counter reset to 0')
      t.equal(await storedCounter(credential.id), counter, 'the stored counter did not move')
      expectStatus(t, await signIn(key, { counter: counter + 5 }), 200, 'a counter that moved on')
      t.equal(await storedCounter(credential.id), counter + 5)

      t.equal(
        (await passkeyLoginFailures()) - failuresBefore,
        refusals,
        `each of the ${refusals} refusals audited as login.failed {method: passkey}`,
      )
    })

    await t.test('malformed input: 4xx, never 5xx', async (t) => {
      const owner = await newAccount()
      const key = new SoftwareAuthenticator()
      await addPasskey(owner.client, key)
      // Each variant on a fresh response, so none fails only because another spent its challenge.
      const fresh = async () => key.authenticate(await signInOptions(), ORIGIN)
      const honest = await fresh()
      type Response = AuthenticationResponseJSON['response']
      const variants: [string, (r: Response) => unknown][] = [
        ['huge clientDataJSON', (r) => ({ ...r, clientDataJSON: 'A'.repeat(200_000) })],
        ['clientDataJSON at the bound', (r) => ({ ...r, clientDataJSON: 'A'.repeat(16_384) })],
        ['clientDataJSON past the bound', (r) => ({ ...r, clientDataJSON: 'A'.repeat(16_385) })],
        ['non-base64url signature', (r) => ({ ...r, signature: 'not/base64+url==' })],
        ['clientDataJSON not JSON', (r) => ({ ...r, clientDataJSON: 'bm90IGpzb24' })],
        [
          'clientDataJSON of another shape',
          (r) => ({
            ...r,
            clientDataJSON: Buffer.from('{"type":1,"challenge":{},"origin":[]}').toString(
              'base64url',
            ),
          }),
        ],
        ['authenticatorData too short', (r) => ({ ...r, authenticatorData: 'AAAA' })],
        [
          'authenticatorData with garbage attested data',
          (r) => ({
            ...r,
            authenticatorData: Buffer.concat([
              Buffer.from(r.authenticatorData, 'base64url').subarray(0, 32),
              Buffer.from([0xc5, 0, 0, 0, 1, 0xff, 0xff, 0xff]),
            ]).toString('base64url'),
          }),
        ],
        ['signature not DER', (r) => ({ ...r, signature: 'AAAA' })],
        ['userHandle a number', (r) => ({ ...r, userHandle: 7 })],
        ['no signature', (r) => ({ ...r, signature: undefined })],
        ['response a string', () => 'x'],
      ]
      for (const [what, change] of variants) {
        const response = await fresh()
        const reply = await loginWith({ ...response, response: change(response.response) })
        t.ok(reply.status >= 400 && reply.status < 500, `${what}: ${reply.status}`)
        t.equal(reply.data, undefined, `${what}: no session`)
      }
      const shapes: [string, (r: AuthenticationResponseJSON) => unknown][] = [
        ['no response', () => ({})],
        ['response null', () => ({ response: null })],
        ['id a number', (r) => ({ response: { ...r, id: 42 } })],
        ['id ≠ rawId', (r) => ({ response: { ...r, rawId: 'AAAA' } })],
        [
          'id too long',
          (r) => ({ response: { ...r, id: 'A'.repeat(1401), rawId: 'A'.repeat(1401) } }),
        ],
        ['type password', (r) => ({ response: { ...r, type: 'password' } })],
        ['unknown transport', (r) => ({ response: r, transport: 'carrier-pigeon' })],
        ['an array', (r) => [r]],
      ]
      for (const [what, body] of shapes) {
        const reply = await new Client(server.url).mutation(
          'auth.loginWithPasskey',
          body(await fresh()),
        )
        t.ok(reply.status >= 400 && reply.status < 500, `${what}: ${reply.status}`)
      }
      expectStatus(
        t,
        await loginWith(honest),
        200,
        'the first response, never sent, still signs in',
      )

      type Attestation = RegistrationResponseJSON
      const registrations: [string, (a: Attestation) => unknown][] = [
        [
          'attestationObject garbage',
          (a) => ({ ...a, response: { ...a.response, attestationObject: 'Z2FyYmFnZQ' } }),
        ],
        [
          'attestationObject of zeros',
          (a) => ({ ...a, response: { ...a.response, attestationObject: 'A'.repeat(16_000) } }),
        ],
        [
          'attestationObject huge',
          (a) => ({ ...a, response: { ...a.response, attestationObject: 'A'.repeat(100_000) } }),
        ],
        [
          'no attestationObject',
          (a) => ({ ...a, response: { clientDataJSON: a.response.clientDataJSON } }),
        ],
        ['transports not strings', (a) => ({ ...a, response: { ...a.response, transports: [1] } })],
        ['not an object', () => 17],
      ]
      for (const [what, change] of registrations) {
        const attestation = new SoftwareAuthenticator().register(
          await creationOptions(owner.client),
          ORIGIN,
        )
        const reply = await owner.client.mutation('passkeys.register', {
          response: change(attestation),
        })
        t.ok(reply.status >= 400 && reply.status < 500, `register, ${what}: ${reply.status}`)
      }
      t.equal(
        (await owner.client.query<{ passkeys: PasskeyView[] }>('passkeys.list')).data.passkeys
          .length,
        1,
        'nothing stored by them',
      )
      for (const input of [
        { challenge: 'x' },
        { challenge: 'A'.repeat(10_000) },
        { challenge: 5 },
        'x',
      ])
        t.ok(
          (await new Client(server.url).mutation('auth.passkeyOptions', input)).status < 500,
          `passkeyOptions ${JSON.stringify(input).slice(0, 20)}`,
        )
    })

    await t.test('odd registrations: refused, never stored, never a 5xx', async (t) => {
      const owner = await newAccount()
      const count = async () =>
        (await db.selectFrom('passkeys').select('id').where('user_id', '=', owner.userId).execute())
          .length
      let rejections = 0
      const rejected = async (response: RegistrationResponseJSON, message: string) => {
        rejections++
        const reply = await register(owner.client, response)
        t.equal(reply.status, 400, message)
        t.equal(reply.reason, 'PASSKEY_REJECTED', `${message}: PASSKEY_REJECTED`)
      }
      const fresh = async (deviate: Parameters<SoftwareAuthenticator['register']>[2] = {}) =>
        new SoftwareAuthenticator().register(await creationOptions(owner.client), ORIGIN, deviate)
      await rejected(await fresh({ flags: { uv: false } }), 'no user verification')
      await rejected(await fresh({ flags: { up: false } }), 'no user presence')
      await rejected(await fresh({ rpId: 'attacker.example' }), 'the RP ID hash of another site')
      await rejected(await fresh({ type: 'webauthn.get' }), 'client data of a sign-in')
      await rejected(
        new SoftwareAuthenticator().register(
          await creationOptions(owner.client),
          'https://attacker.example',
        ),
        'another origin',
      )
      await rejected(
        new SoftwareAuthenticator().register(
          {
            ...(await creationOptions(owner.client)),
            challenge: (await signInOptions()).challenge,
          },
          ORIGIN,
        ),
        'a sign-in challenge used to register',
      )
      const spent = await creationOptions(owner.client)
      expectStatus(
        t,
        await register(owner.client, new SoftwareAuthenticator().register(spent, ORIGIN)),
        200,
        'one registration',
      )
      await rejected(new SoftwareAuthenticator().register(spent, ORIGIN), 'its challenge again')
      const elsewhere = await newAccount()
      await rejected(
        new SoftwareAuthenticator().register(await creationOptions(elsewhere.client), ORIGIN),
        'the registration challenge of another user',
      )
      const expiring = await creationOptions(owner.client)
      clock.advance(301)
      await rejected(new SoftwareAuthenticator().register(expiring, ORIGIN), 'an expired challenge')

      // The same credential twice, to this user or another.
      const twice = new SoftwareAuthenticator()
      await addPasskey(owner.client, twice)
      const credential = onlyCredential(twice)
      await rejected(
        twice.register(await creationOptions(owner.client), ORIGIN, { reuse: credential.id }),
        'a passkey registered twice',
      )
      const thief = await newAccount()
      const stolen = await register(
        thief.client,
        twice.register(await creationOptions(thief.client), ORIGIN, { reuse: credential.id }),
      )
      t.equal(stolen.reason, 'PASSKEY_REJECTED', "another user's credential")
      t.equal(
        (
          await db
            .selectFrom('passkeys')
            .select('user_id')
            .where('credential_id', '=', credential.id)
            .execute()
        )
          .map((row) => row.user_id)
          .join(),
        owner.userId,
        'still only the owner holds it',
      )
      // Two accounts of one attacker registering one new credential at the same time.
      const [a, b] = [await newAccount(), await newAccount()]
      const shared = new SoftwareAuthenticator()
      const [optionsA, optionsB] = [
        await creationOptions(a.client),
        await creationOptions(b.client),
      ]
      const responseA = shared.register(optionsA, ORIGIN)
      const responseB = shared.register(optionsB, ORIGIN, { reuse: responseA.id })
      const race = await Promise.all([register(a.client, responseA), register(b.client, responseB)])
      t.same(
        race.map((r) => r.status).sort(),
        [200, 400],
        'one credential, two accounts at once: one stores it, the other is refused',
      )

      // A credential id the response does not carry, or longer than WebAuthn allows.
      const mismatched = await fresh()
      const otherId = Buffer.alloc(32, 9).toString('base64url')
      await rejected(
        { ...mismatched, id: otherId, rawId: otherId },
        'a response id that is not the credential id',
      )
      await rejected(await fresh({ credentialIdLength: 1024 }), 'a 1024-byte credential id')
      await rejected(await fresh({ padPublicKey: 9000 }), 'a bloated public key')
      t.equal(await count(), 2, 'only the two honest ones stored')
      const failures = (await auditTypes(owner.userId)).filter((e) => e.type === 'passkey.failed')
      t.equal(failures.length, rejections, `each of the ${rejections} refusals audited`)
      t.ok(
        failures.some((e) => (e.details as { why?: string }).why === 'already registered'),
        'a duplicate says so in the audit',
      )
    })

    await t.test('limits and bursts', async (t) => {
      // At most 20 passkeys, also when ten registrations race for the last five places.
      const owner = await newAccount()
      for (let i = 0; i < 15; i++) await addPasskey(owner.client, new SoftwareAuthenticator())
      const options = await Promise.all(
        Array.from({ length: 10 }, () => creationOptions(owner.client)),
      )
      const burst = await Promise.all(
        options.map((o) => register(owner.client, new SoftwareAuthenticator().register(o, ORIGIN))),
      )
      t.equal(burst.filter((r) => r.status === 200).length, 5, 'five fit')
      t.ok(
        burst.filter((r) => r.status !== 200).every((r) => r.reason === 'PASSKEY_REJECTED'),
        'the rest: PASSKEY_REJECTED',
      )
      const held = await db
        .selectFrom('passkeys')
        .select('id')
        .where('user_id', '=', owner.userId)
        .execute()
      t.equal(held.length, 20, 'never more than 20 stored')
      const more = await owner.client.mutation('passkeys.registrationOptions')
      t.equal(more.reason, 'PASSKEY_REJECTED', 'no options past the limit')

      // Ten requests with one assertion: one session.
      const key = new SoftwareAuthenticator()
      const user = await newAccount()
      await addPasskey(user.client, key)
      const sessions = async () =>
        (await db.selectFrom('sessions').select('id').where('user_id', '=', user.userId).execute())
          .length
      const before = await sessions()
      const assertion = key.authenticate(await signInOptions(), ORIGIN)
      const replies = await Promise.all(Array.from({ length: 10 }, () => loginWith(assertion)))
      t.equal(replies.filter((r) => r.status === 200).length, 1, 'one of ten signs in')
      t.ok(
        replies.filter((r) => r.status !== 200).every((r) => r.reason === 'INVALID_CREDENTIALS'),
        'the others are refused',
      )
      t.equal(await sessions(), before + 1, 'exactly one session opened')
    })

    await t.test('a passkey as the second factor of a TOTP user', async (t) => {
      const owner = await newAccount('mfa')
      const codeAt = (secret: string) =>
        generateHOTP(decodeBase32IgnorePadding(secret), BigInt(Math.floor(clock.now / 30_000)), 6)
      const login = async () =>
        expectStatus(
          t,
          await new Client(server.url).mutation<Challenge>('auth.login', {
            email: owner.email,
            password: PASSWORD,
            transport: 'bearer',
          }),
          200,
          'password accepted',
        ).data
      const verify = (input: Record<string, unknown>) =>
        new Client(server.url).mutation<AuthResult>('auth.verifySecondFactor', {
          transport: 'bearer',
          ...input,
        })
      const { secret } = (await owner.client.mutation<{ secret: string }>('mfa.totp.enroll')).data
      expectStatus(
        t,
        await owner.client.mutation('mfa.totp.confirm', { code: codeAt(secret) }),
        200,
        'TOTP on',
      )
      t.same((await login()).methods, ['totp', 'recovery_code'], 'no passkey yet: not offered')
      const key = new SoftwareAuthenticator()
      // A passkey signs in alone: with TOTP on, a recent password is not enough to add one,
      // or a stolen session and password would buy a lasting way round the app.
      t.equal(
        (await owner.client.mutation('passkeys.registrationOptions')).reason,
        'REAUTH_REQUIRED',
        'signed up with a password only: a second factor must be proved first',
      )
      expectStatus(
        t,
        await owner.client.mutation('auth.reauthenticate', { password: PASSWORD }),
        200,
        'a fresh password',
      )
      const passwordOnly = await owner.client.mutation('passkeys.registrationOptions')
      t.equal(passwordOnly.reason, 'REAUTH_REQUIRED', 'still not enough')
      t.match(passwordOnly.body, { error: { message: /authenticator app/ } }, 'and it says what is')
      clock.advance(30)
      const reauthenticated = await owner.client.mutation<{ tokens: { accessToken: string } }>(
        'auth.reauthenticate',
        { code: codeAt(secret) },
      )
      expectStatus(t, reauthenticated, 200, 'a TOTP code')
      owner.client.bearer = reauthenticated.data.tokens.accessToken
      await addPasskey(owner.client, key, 'Key')

      const pending = await login()
      t.same(pending.methods, ['totp', 'recovery_code', 'passkey'], 'now offered')
      const options = await signInOptions({ challenge: pending.challenge })
      t.same(
        options.allowCredentials?.map((c) => c.id),
        [onlyCredential(key).id],
        "this user's passkeys only",
      )
      const done = await verify({
        challenge: pending.challenge,
        passkey: key.authenticate(options, ORIGIN),
      })
      expectStatus(t, done, 200, 'the passkey finishes the login')
      t.same(claimsOf(done.data.tokens?.accessToken).amr, ['pwd', 'hwk'])
      t.equal(
        (
          await verify({
            challenge: pending.challenge,
            passkey: key.authenticate(await signInOptions(), ORIGIN),
          })
        ).reason,
        'INVALID_CREDENTIALS',
        'the login challenge is spent',
      )

      // Someone else's passkey, even one that verifies, is not this user's factor.
      const other = await newAccount()
      const otherKey = new SoftwareAuthenticator()
      await addPasskey(other.client, otherKey)
      const victim = await login()
      const victimOptions = await signInOptions({ challenge: victim.challenge })
      const foreign = await verify({
        challenge: victim.challenge,
        passkey: otherKey.authenticate(victimOptions, ORIGIN, {
          credentialId: onlyCredential(otherKey).id,
        }),
      })
      t.equal(foreign.reason, 'INVALID_CREDENTIALS', "another user's passkey")
      t.equal(
        (
          await verify({
            challenge: victim.challenge,
            passkey: key.authenticate(await signInOptions(), ORIGIN),
          })
        ).reason,
        'INVALID_CREDENTIALS',
        'a sign-in challenge is not a second-factor one',
      )
      t.equal(
        (await loginWith(key.authenticate(victimOptions, ORIGIN))).reason,
        'INVALID_CREDENTIALS',
        'nor the other way round',
      )
      const finished = await verify({
        challenge: victim.challenge,
        passkey: key.authenticate(await signInOptions({ challenge: victim.challenge }), ORIGIN),
      })
      expectStatus(t, finished, 200, 'the right passkey still finishes it')

      // Options for a login challenge count among its 5 attempts.
      const counted = await login()
      const spare = await signInOptions({ challenge: counted.challenge })
      for (let i = 0; i < 4; i++) await signInOptions({ challenge: counted.challenge })
      const sixth = await new Client(server.url).mutation('auth.passkeyOptions', {
        challenge: counted.challenge,
      })
      t.equal(sixth.reason, 'INVALID_CREDENTIALS', 'a sixth request for options is refused')
      t.equal(
        (await verify({ challenge: counted.challenge, passkey: key.authenticate(spare, ORIGIN) }))
          .reason,
        'INVALID_CREDENTIALS',
        'and the challenge has no attempt left',
      )
      t.equal(
        (
          await new Client(server.url).mutation('auth.passkeyOptions', {
            challenge: 'A'.repeat(43),
          })
        ).reason,
        'INVALID_CREDENTIALS',
        'options for an unknown login challenge',
      )

      // Signing in with the passkey itself skips the TOTP step: it was user-verified.
      const direct = await signIn(key)
      expectStatus(t, direct, 200, 'a passkey alone signs a TOTP user in')
      t.same(claimsOf(direct.data.tokens?.accessToken).amr, ['hwk'])
      const used = (await auditTypes(owner.userId)).filter((e) => e.type === 'passkey.used')
      t.same(
        used.map((e) => (e.details as { during?: string }).during),
        ['login', 'login', 'login'],
        'passkey.used, for each use',
      )
    })

    await t.test('challenges are stored as digests', async (t) => {
      const owner = await newAccount()
      const dump = async () =>
        JSON.stringify(await db.selectFrom('webauthn_challenges').selectAll().execute())
      const registration = await creationOptions(owner.client)
      const signInChallenge = (await signInOptions()).challenge
      const rows = await db
        .selectFrom('webauthn_challenges')
        .selectAll()
        .where('user_id', '=', owner.userId)
        .execute()
      t.same(
        rows.map((row) => row.purpose),
        ['register'],
        'the registration challenge is stored for this user',
      )
      const all = await dump()
      for (const challenge of [registration.challenge, signInChallenge]) {
        t.notOk(all.includes(challenge), 'not in clear')
        t.notOk(all.includes(Buffer.from(challenge, 'base64url').toString('hex')), 'nor in hex')
      }
    })

    await t.test('RP ID from the options; an IP address is refused', async (t) => {
      const configured = await startServer(database, {
        clock: clock.read,
        publicUrl: 'https://app.example.test',
        webauthnRpId: 'example.test',
        // Both servers count this address's attempts in the one database.
        loginIpLimit: '100000/1m',
      })
      t.teardown(configured.close)
      const account = await registerBearer(configured.url, uniqueEmail('rp'))
      const options = (
        await account.client.mutation<PublicKeyCredentialCreationOptionsJSON>(
          'passkeys.registrationOptions',
        )
      ).data
      t.equal(options.rp.id, 'example.test')
      const key = new SoftwareAuthenticator()
      const refused = await account.client.mutation('passkeys.register', {
        response: key.register(options, ORIGIN),
      })
      t.equal(refused.reason, 'PASSKEY_REJECTED', 'localhost is not under example.test')
      key.credentials.clear()
      const fromApp = await account.client.mutation('passkeys.register', {
        response: key.register(
          (
            await account.client.mutation<PublicKeyCredentialCreationOptionsJSON>(
              'passkeys.registrationOptions',
            )
          ).data,
          'https://app.example.test',
        ),
      })
      t.equal(fromApp.status, 200, 'the public origin registers')
      const anonymous = new Client(configured.url)
      const signInThere = async (origin: string) =>
        anonymous.mutation<AuthResult>('auth.loginWithPasskey', {
          transport: 'bearer',
          response: key.authenticate(
            (await anonymous.mutation<PublicKeyCredentialRequestOptionsJSON>('auth.passkeyOptions'))
              .data,
            origin,
          ),
        })
      t.equal(
        (await signInThere('https://evil.example.test')).reason,
        'INVALID_CREDENTIALS',
        'a sibling under the RP ID is not an allowed origin',
      )
      t.equal((await signInThere('https://app.example.test')).status, 200, 'and signs in there')
      await t.rejects(
        startServer(database, { webauthnRpId: '127.0.0.1' }),
        /webauthnRpId must be a domain name/,
      )
      await t.rejects(
        startServer(database, { webauthnRpId: 'https://example.test' }),
        /webauthnRpId must be a domain name/,
      )
    })
  }),
)
