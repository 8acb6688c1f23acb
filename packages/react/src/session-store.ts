import type { BreakwaterAuth, SessionEndReason } from '@breakwater/client'
import type { SessionView, UserView } from '@breakwater/protocol'
import {
  isSignedIn,
  procedure,
  type SecondFactorInput,
  type SignedIn,
  type SignInInput,
  type SignInResult,
  type SignInWithCodeInput,
  type SignInWithPasskeyInput,
  type SignUpInput,
} from './procedures.js'

/** `loading` until the server has said, then `signed-in` or `signed-out`. */
export type SessionStatus = 'loading' | 'signed-in' | 'signed-out'

/**
 * The session as a component sees it. Narrow on `status`: `user` and
 * `session` are there exactly when it is `signed-in`; `reason` (and, from the
 * live stream, `revocation`) say why when it is `signed-out`.
 */
export type SessionState =
  | {
      readonly status: 'loading'
      readonly user: undefined
      readonly session: undefined
      readonly accessTokenExpiresAt: undefined
      readonly reason: undefined
      readonly revocation: undefined
      /** Why the session could not be read yet (the server unreachable): `refresh()` tries again. */
      readonly error: unknown
    }
  | {
      readonly status: 'signed-in'
      readonly user: UserView
      readonly session: SessionView
      /** The current access token's expiry, kept up to date across refreshes (`session`'s is as first read). */
      readonly accessTokenExpiresAt: Date | undefined
      readonly reason: undefined
      readonly revocation: undefined
      readonly error: undefined
    }
  | {
      readonly status: 'signed-out'
      readonly user: undefined
      readonly session: undefined
      readonly accessTokenExpiresAt: undefined
      /** `REFRESH_MISSING` when there was no session to begin with; `LOGGED_OUT`, `SESSION_REVOKED`, … when one ended. */
      readonly reason: SessionEndReason
      /** The server's reason (`password_changed`, `user_revoked`, …) when the live stream told. */
      readonly revocation: string | undefined
      readonly error: undefined
    }

type Loading = Extract<SessionState, { status: 'loading' }>

/** What the server renders, and the first client render before hydration: nothing known, nothing touched. */
export const LOADING: Loading = Object.freeze({
  status: 'loading',
  user: undefined,
  session: undefined,
  accessTokenExpiresAt: undefined,
  reason: undefined,
  revocation: undefined,
  error: undefined,
})

/**
 * The session for React (or anything with `subscribe`/`getSnapshot`): the
 * client's state (`auth.subscribe`) joined with who is signed in (`auth.me`,
 * or the sign-in's own answer). Nothing happens until the first subscriber
 * (React subscribes in an effect, so never during server rendering): then,
 * if the client does not know yet, one `auth.me` asks.
 */
export class SessionStore {
  readonly auth: BreakwaterAuth
  readonly #client: object
  readonly #listeners = new Set<() => void>()
  #me: SignedIn | undefined
  #error: unknown
  #loading: Promise<void> | undefined
  /** Bumped by every sign-in and sign-out here: an `auth.me` answer from before is stale. */
  #epoch = 0
  /** Sign-ins in flight: their own answer says who, no `auth.me` needed. */
  #signingIn = 0
  #stopAuth: (() => void) | undefined
  #lastState: string
  #cache: { key: readonly unknown[]; state: SessionState } | undefined

  constructor(auth: BreakwaterAuth, client: object) {
    this.auth = auth
    this.#client = client
    this.#lastState = auth.snapshot.state
  }

  /** For `useSyncExternalStore`: starts watching (and asks `auth.me` if needed) with the first listener. */
  readonly subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener)
    if (this.#listeners.size === 1) this.#start()
    return () => {
      this.#listeners.delete(listener)
      if (this.#listeners.size === 0) {
        this.#stopAuth?.()
        this.#stopAuth = undefined
      }
    }
  }

  /** The current {@link SessionState}: the same object until something changes. */
  readonly getSnapshot = (): SessionState => {
    const snapshot = this.auth.snapshot
    const key = [snapshot, this.#me, this.#error] as const
    const cached = this.#cache
    if (cached?.key.every((value, i) => value === key[i])) return cached.state
    const state = this.#derive()
    this.#cache = { key, state }
    return state
  }

  /** On the server, and while hydrating: {@link LOADING}. */
  readonly getServerSnapshot = (): SessionState => LOADING

  /** Reads the session again (`auth.me`): after an error, or when the user's data changed. */
  readonly refresh = (): Promise<void> => this.#load(true)

  /** `auth.login`; signed in at once unless a second factor is due (then answer it with {@link verifySecondFactor}). */
  readonly signIn = (input: SignInInput): Promise<SignInResult> =>
    this.#signIn(this.auth.paths.login, input) as Promise<SignInResult>

  /** `auth.register`: the new account, signed in. */
  readonly signUp = (input: SignUpInput): Promise<SignedIn> =>
    this.#signIn(this.auth.paths.register, input) as Promise<SignedIn>

  /** `auth.verifySecondFactor`: the sign-in's second step. */
  readonly verifySecondFactor = (input: SecondFactorInput): Promise<SignedIn> =>
    this.#signIn(this.auth.paths.verifySecondFactor, input) as Promise<SignedIn>

  /** `auth.signInWithCode`: a mailed code; a user with TOTP is asked for it after (as `signIn`). */
  readonly signInWithCode = (input: SignInWithCodeInput): Promise<SignInResult> =>
    this.#signIn(this.auth.paths.signInWithCode, input) as Promise<SignInResult>

  /** `auth.loginWithPasskey`: a passkey's assertion signs in alone (no second step). */
  readonly signInWithPasskey = (input: SignInWithPasskeyInput): Promise<SignedIn> =>
    this.#signIn(this.auth.paths.loginWithPasskey, input) as Promise<SignedIn>

  /**
   * `auth.logout`. The session is forgotten here whatever the server said
   * (the promise still rejects when it could not be told).
   */
  readonly signOut = async (): Promise<void> => {
    this.#epoch++
    await procedure(this.#client, this.auth.paths.logout).mutate()
  }

  /** `auth.logoutAll`: every session of the user ends, this one too. */
  readonly signOutEverywhere = async (): Promise<void> => {
    this.#epoch++
    await procedure(this.#client, this.auth.paths.logoutAll).mutate()
  }

  async #signIn(path: string, input: unknown): Promise<unknown> {
    const epoch = ++this.#epoch
    this.#signingIn++
    let result: unknown
    try {
      result = await procedure(this.#client, path).mutate(input)
    } finally {
      this.#signingIn--
    }
    if (epoch === this.#epoch && isSignedIn(result)) {
      this.#me = { user: result.user, session: result.session }
      this.#error = undefined
      this.#notify()
    }
    return result
  }

  #start(): void {
    this.#stopAuth = this.auth.subscribe((snapshot) => {
      const previous = this.#lastState
      this.#lastState = snapshot.state
      if (snapshot.state === 'signed-out') {
        this.#me = undefined
        this.#error = undefined
        this.#epoch++
      } else if (
        snapshot.state === 'signed-in' &&
        previous !== 'signed-in' &&
        !this.#me &&
        this.#signingIn === 0
      ) {
        // Signed in elsewhere (a peer tab): find out who.
        void this.#load(false)
      }
      this.#notify()
    })
    this.#lastState = this.auth.snapshot.state
    const { state } = this.auth.snapshot
    if (state === 'unknown' || (state === 'signed-in' && !this.#me)) void this.#load(false)
  }

  #load(force: boolean): Promise<void> {
    if (this.#loading && !force) return this.#loading
    const epoch = this.#epoch
    const loading = procedure(this.#client, this.auth.paths.me)
      .query()
      .then(
        (result) => {
          if (epoch !== this.#epoch || !isSignedIn(result)) return
          this.#me = { user: result.user, session: result.session }
          this.#error = undefined
        },
        (error: unknown) => {
          // A session that ended shows in the client's state; anything else is worth showing.
          if (epoch === this.#epoch && this.auth.snapshot.state !== 'signed-out')
            this.#error = error
        },
      )
      .finally(() => {
        if (this.#loading === loading) this.#loading = undefined
        this.#notify()
      })
    this.#loading = loading
    return loading
  }

  #derive(): SessionState {
    const { state, accessTokenExpiresAt, reason, revocation } = this.auth.snapshot
    if (state === 'signed-out') {
      return Object.freeze({
        status: 'signed-out',
        user: undefined,
        session: undefined,
        accessTokenExpiresAt: undefined,
        reason: reason ?? 'REFRESH_MISSING',
        revocation,
        error: undefined,
      })
    }
    const me = this.#me
    // Signed in by a call whose answer (who) has not landed yet: keep showing what was, not `loading`.
    if (state === 'signed-in' && !me && this.#signingIn > 0 && this.#cache) return this.#cache.state
    if (state === 'signed-in' && me) {
      return Object.freeze({
        status: 'signed-in',
        user: me.user,
        session: me.session,
        accessTokenExpiresAt,
        reason: undefined,
        revocation: undefined,
        error: undefined,
      })
    }
    if (this.#error === undefined) return LOADING
    const failed: Loading = { ...LOADING, error: this.#error }
    return Object.freeze(failed)
  }

  #notify(): void {
    for (const listener of [...this.#listeners]) listener()
  }
}
