/**
 * Whether this browser can use passkeys at all: WebAuthn, which browsers offer
 * in secure contexts only. The check @simplewebauthn/browser makes, here so that
 * a page can decide whether to offer a passkey without loading the library (its
 * entry module brings all of it).
 */
export const passkeysSupported = (): boolean => typeof globalThis.PublicKeyCredential === 'function'
