import {
  type AuthenticationResponseJSON,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
  startAuthentication,
  startRegistration,
} from '@simplewebauthn/browser'
import { passkeysSupported } from './webauthn-support.js'

// The browser's side of a passkey ceremony, through @simplewebauthn/browser: the
// server's options (JSON, base64url) in, the credential as JSON out. Failures are the
// library's WebAuthnError or the browser's own DOMExceptions (NotAllowedError:
// cancelled or timed out; InvalidStateError: this authenticator already holds one;
// SecurityError: wrong site), read by messages.ts. One ceremony at a time: the
// library cancels the one still waiting when another starts (a second click).

/**
 * Options as tRPC types the server's answer: JSON, so the binary fields of
 * `extensions` (PRF salts) lose their DOM types. The server asks for none of
 * those; whatever it sends there goes to the browser as is.
 */
type FromServer<T> = Omit<T, 'extensions'> & { extensions?: object | undefined }

export type CreationOptions = FromServer<PublicKeyCredentialCreationOptionsJSON>
export type RequestOptions = FromServer<PublicKeyCredentialRequestOptionsJSON>

/** The server's input schemas read the extension results as a plain record. */
type ToServer<T> = Omit<T, 'clientExtensionResults'> & {
  clientExtensionResults: Record<string, unknown>
}

export type Registration = ToServer<RegistrationResponseJSON>
export type Assertion = ToServer<AuthenticationResponseJSON>

function unsupported(): DOMException {
  return new DOMException('This browser does not support passkeys.', 'NotSupportedError')
}

/** A new passkey, with `passkeys.registrationOptions`. */
export async function createPasskey(options: CreationOptions): Promise<Registration> {
  if (!passkeysSupported()) throw unsupported()
  const response = await startRegistration({
    optionsJSON: options as PublicKeyCredentialCreationOptionsJSON,
  })
  return { ...response, clientExtensionResults: { ...response.clientExtensionResults } }
}

/** A signature by one of the user's passkeys (any passkey of this site when none are listed). */
export async function signWithPasskey(options: RequestOptions): Promise<Assertion> {
  if (!passkeysSupported()) throw unsupported()
  const response = await startAuthentication({
    optionsJSON: options as PublicKeyCredentialRequestOptionsJSON,
  })
  return { ...response, clientExtensionResults: { ...response.clientExtensionResults } }
}
