// A software WebAuthn authenticator and the browser around it, for tests: it makes
// what `@simplewebauthn/browser`'s startRegistration()/startAuthentication() resolve
// to, with real P-256 keys and real signatures, so the server's checks run unchanged.
import { createHash, generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto'
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server'

// --- A tiny CBOR encoder (RFC 8949): just what attestation objects and COSE keys use.

export type Cbor = number | string | Uint8Array | readonly Cbor[] | Map<number | string, Cbor>

function head(major: number, length: number): Buffer {
  const type = major << 5
  if (length < 24) return Buffer.from([type | length])
  if (length < 0x100) return Buffer.from([type | 24, length])
  if (length < 0x10000) {
    const out = Buffer.alloc(3)
    out[0] = type | 25
    out.writeUInt16BE(length, 1)
    return out
  }
  const out = Buffer.alloc(5)
  out[0] = type | 26
  out.writeUInt32BE(length, 1)
  return out
}

/** Encodes in the shortest form, so a decoder that re-encodes finds the same bytes. */
export function encodeCbor(value: Cbor): Buffer {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || Math.abs(value) > 0xffffffff)
      throw new RangeError(`CBOR: integers up to 32 bits only, got ${value}`)
    return value >= 0 ? head(0, value) : head(1, -1 - value)
  }
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8')
    return Buffer.concat([head(3, bytes.length), bytes])
  }
  if (value instanceof Uint8Array) return Buffer.concat([head(2, value.length), value])
  if (value instanceof Map) {
    const parts = [head(5, value.size)]
    for (const [key, item] of value) parts.push(encodeCbor(key), encodeCbor(item))
    return Buffer.concat(parts)
  }
  return Buffer.concat([head(4, value.length), ...value.map(encodeCbor)])
}

// --- The authenticator.

const FLAG = { UP: 0x01, UV: 0x04, BE: 0x08, BS: 0x10, AT: 0x40 } as const

export interface Flags {
  /** User present (touched the key). */
  up: boolean
  /** User verified (PIN, biometrics). */
  uv: boolean
  /** Backup eligible: a synced passkey. */
  be: boolean
  /** Backed up now. */
  bs: boolean
}

export interface AuthenticatorSettings {
  /** `'zero'`: no counter (always 0, like synced passkeys); `'incrementing'`: +1 per signature. */
  counter?: 'zero' | 'incrementing'
  flags?: Partial<Flags>
  aaguid?: Uint8Array
}

/** A resident credential, mutable so a test can play a cloned or broken authenticator. */
export interface StoredCredential {
  readonly id: string
  readonly rpId: string
  /** base64url, as the server sent it in `user.id`. */
  readonly userHandle: string
  readonly privateKey: KeyObject
  readonly publicKey: KeyObject
  counter: number
}

/** Per-call deviations, to make responses a real authenticator or browser would not. */
export interface Deviations {
  /** The RP ID whose hash goes in authData (default: the options'). */
  rpId?: string
  flags?: Partial<Flags>
  /** The counter to sign (default: the credential's, after its increment). */
  counter?: number
  /** Sign with this key instead of the credential's: a forged signature. */
  signWith?: KeyObject
  /** clientDataJSON's `type` (default `webauthn.create` / `webauthn.get`). */
  type?: string
}

const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest()
const b64u = (data: Uint8Array) => Buffer.from(data).toString('base64url')

/** A COSE_Key for an ES256 public key (RFC 9053 §7.1.1). */
function coseKey(publicKey: KeyObject, pad?: number): Buffer {
  const jwk = publicKey.export({ format: 'jwk' })
  const key = new Map<number, Cbor>([
    [1, 2], // kty: EC2
    [3, -7], // alg: ES256
    [-1, 1], // crv: P-256
    [-2, Buffer.from(jwk.x!, 'base64url')],
    [-3, Buffer.from(jwk.y!, 'base64url')],
  ])
  // A label no COSE key type defines: verifiers ignore it, storage does not.
  if (pad !== undefined) key.set(1000, Buffer.alloc(pad, 0x61))
  return encodeCbor(key)
}

function clientData(type: string, challenge: string, origin: string): string {
  return b64u(Buffer.from(JSON.stringify({ type, challenge, origin, crossOrigin: false })))
}

export class SoftwareAuthenticator {
  readonly credentials = new Map<string, StoredCredential>()
  readonly flags: Flags
  readonly counterMode: 'zero' | 'incrementing'
  readonly aaguid: Uint8Array

  constructor(settings: AuthenticatorSettings = {}) {
    this.counterMode = settings.counter ?? 'zero'
    this.flags = { up: true, uv: true, be: false, bs: false, ...settings.flags }
    this.aaguid = settings.aaguid ?? new Uint8Array(16)
  }

  private authData(
    rpId: string,
    flags: Flags,
    counter: number,
    attested?: { credentialId: Buffer; publicKey: KeyObject; pad?: number | undefined },
  ): Buffer {
    let bits = 0
    if (flags.up) bits |= FLAG.UP
    if (flags.uv) bits |= FLAG.UV
    if (flags.be) bits |= FLAG.BE
    if (flags.bs) bits |= FLAG.BS
    if (attested) bits |= FLAG.AT
    const fixed = Buffer.alloc(37)
    sha256(rpId).copy(fixed, 0)
    fixed[32] = bits
    fixed.writeUInt32BE(counter, 33)
    if (!attested) return fixed
    const idLength = Buffer.alloc(2)
    idLength.writeUInt16BE(attested.credentialId.length)
    return Buffer.concat([
      fixed,
      this.aaguid,
      idLength,
      attested.credentialId,
      coseKey(attested.publicKey, attested.pad),
    ])
  }

  private nextCounter(credential: StoredCredential): number {
    if (this.counterMode === 'incrementing') credential.counter++
    return credential.counter
  }

  /** `navigator.credentials.create()`: a new resident ES256 credential, attestation `none`. */
  register(
    options: PublicKeyCredentialCreationOptionsJSON,
    origin: string,
    deviate: Deviations & {
      /** Attest this credential again (same id and key), as no honest authenticator would. */
      reuse?: string
      /** A credential id of this many bytes (default 32; WebAuthn allows at most 1023). */
      credentialIdLength?: number
      /** Pads the COSE key with an extra entry of this many bytes. */
      padPublicKey?: number
    } = {},
  ): RegistrationResponseJSON {
    const rpId = options.rp.id ?? new URL(origin).hostname
    if (!options.pubKeyCredParams.some((param) => param.alg === -7))
      throw new Error('the server does not accept ES256')
    const excluded = new Set(options.excludeCredentials?.map((c) => c.id))
    if (deviate.reuse === undefined && [...this.credentials.keys()].some((id) => excluded.has(id)))
      throw new Error('InvalidStateError: this authenticator already holds a listed credential')
    const reused = deviate.reuse === undefined ? undefined : this.credentials.get(deviate.reuse)
    if (deviate.reuse !== undefined && !reused) throw new Error('no such credential to reuse')
    const { privateKey, publicKey } = reused ?? generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const credentialId = reused
      ? Buffer.from(reused.id, 'base64url')
      : randomBytes(deviate.credentialIdLength ?? 32)
    const credential: StoredCredential = reused ?? {
      id: b64u(credentialId),
      rpId,
      userHandle: options.user.id,
      privateKey,
      publicKey,
      counter: 0,
    }
    this.credentials.set(credential.id, credential)
    const authData = this.authData(
      deviate.rpId ?? rpId,
      { ...this.flags, ...deviate.flags },
      deviate.counter ?? this.nextCounter(credential),
      { credentialId, publicKey, pad: deviate.padPublicKey },
    )
    const attestationObject = encodeCbor(
      new Map<string, Cbor>([
        ['fmt', 'none'],
        ['attStmt', new Map()],
        ['authData', authData],
      ]),
    )
    return {
      id: credential.id,
      rawId: credential.id,
      type: 'public-key',
      response: {
        clientDataJSON: clientData(deviate.type ?? 'webauthn.create', options.challenge, origin),
        attestationObject: b64u(attestationObject),
        authenticatorData: b64u(authData),
        transports: ['internal', 'hybrid'],
        publicKeyAlgorithm: -7,
        publicKey: b64u(publicKey.export({ format: 'der', type: 'spki' })),
      },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform',
    }
  }

  /**
   * `navigator.credentials.get()`: signs `authData || sha256(clientDataJSON)` with a
   * credential of the RP: `credentialId` when given (even one the options do not
   * allow), else the first one `allowCredentials` lists (any, when it is empty).
   */
  authenticate(
    options: PublicKeyCredentialRequestOptionsJSON,
    origin: string,
    deviate: Deviations & { credentialId?: string } = {},
  ): AuthenticationResponseJSON {
    const rpId = options.rpId ?? new URL(origin).hostname
    const allowed = new Set(options.allowCredentials?.map((c) => c.id))
    const credential =
      deviate.credentialId === undefined
        ? [...this.credentials.values()].find(
            (c) => c.rpId === rpId && (allowed.size === 0 || allowed.has(c.id)),
          )
        : this.credentials.get(deviate.credentialId)
    if (!credential) throw new Error('NotAllowedError: no credential for this RP')
    const authData = this.authData(
      deviate.rpId ?? rpId,
      { ...this.flags, ...deviate.flags },
      deviate.counter ?? this.nextCounter(credential),
    )
    const clientDataJSON = clientData(deviate.type ?? 'webauthn.get', options.challenge, origin)
    const signature = sign(
      'sha256',
      Buffer.concat([authData, sha256(Buffer.from(clientDataJSON, 'base64url'))]),
      { key: deviate.signWith ?? credential.privateKey, dsaEncoding: 'der' },
    )
    return {
      id: credential.id,
      rawId: credential.id,
      type: 'public-key',
      response: {
        clientDataJSON,
        authenticatorData: b64u(authData),
        signature: b64u(signature),
        userHandle: credential.userHandle,
      },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform',
    }
  }
}

/** A P-256 key no credential holds, to forge signatures with. */
export function strangerKey(): KeyObject {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey
}
