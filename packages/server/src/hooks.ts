import type { Session, TeamTransaction, User } from '@breakwater/db'
import { BreakwaterError } from './errors.js'
import type { Runtime } from './runtime.js'
import type { ClientInfo } from './session/client.js'
import type { EndReason } from './session/end.js'
import type { SignInMethod } from './session/sign-in.js'

/** What `beforeCreateUser` sees: the registration, before the user exists. */
export interface NewUserInput<TFields = Record<string, unknown>> {
  readonly email: string
  readonly displayName: string | null
  readonly fields: TFields
}

export type { TeamTransaction }

/**
 * The team's own code at the moments a team needs it. Every hook may be
 * async. `beforeCreateUser` and `afterCreateUser` run inside the registration
 * transaction: a throw aborts the registration (no user, no session) and
 * answers `REGISTRATION_REJECTED`, or the `BreakwaterError` thrown. The
 * others run after the fact: a throw is logged and changes nothing.
 */
export interface BreakwaterHooks<TFields = Record<string, unknown>> {
  /** May return changed fields (a normalised company name, a default plan). */
  beforeCreateUser?: (
    input: NewUserInput<TFields>,
    context: { transaction: TeamTransaction; client: ClientInfo },
  ) =>
    | undefined
    | { fields?: TFields }
    | Promise<undefined | { fields?: TFields }>
    | Promise<void>
    | void
  /** The user row exists (not yet committed): insert the team's profile row here. */
  afterCreateUser?: (
    user: User,
    context: { transaction: TeamTransaction; client: ClientInfo },
  ) => void | Promise<void>
  /** A session was opened by registration or login. */
  afterSignIn?: (event: {
    user: User
    session: Session
    method: SignInMethod
    client: ClientInfo
  }) => void | Promise<void>
  /**
   * `auth.deleteAccount`, inside its transaction, before the user row goes: delete the
   * team's rows that reference the user (or declare them `on delete cascade`). A throw
   * aborts the deletion (nothing is deleted, every session lives on) and answers
   * `DELETION_REJECTED`, or the `BreakwaterError` thrown.
   */
  beforeDeleteUser?: (
    user: User,
    context: { transaction: TeamTransaction; client: ClientInfo },
  ) => void | Promise<void>
  /** Sessions ended (logout, revocation, password change, refresh reuse, deletion). */
  afterSessionEnd?: (event: {
    userId: string
    sessionIds: readonly string[]
    reason: EndReason
  }) => void | Promise<void>
}

/**
 * A team hook's throw inside a transaction of Breakwater's, to answer a fixed refusal
 * (`REGISTRATION_REJECTED`, `DELETION_REJECTED`) with the cause kept for the log.
 */
export class HookRefusal extends Error {
  constructor(cause: unknown) {
    super('a team hook threw', { cause })
    this.name = 'HookRefusal'
  }
}

/**
 * Runs a hook inside a transaction (registration, deletion). A `BreakwaterError` it throws
 * is the team's chosen answer and passes as is; anything else becomes a
 * refusal, so the team's internals never reach the client.
 */
export async function teamHook<T>(hook: () => T | Promise<T>): Promise<T> {
  try {
    return await hook()
  } catch (error) {
    if (error instanceof BreakwaterError) throw error
    throw new HookRefusal(error)
  }
}

/** Runs an after-the-fact hook without holding up the request; its failure is logged. */
export function afterTheFact(runtime: Runtime, name: string, hook: () => unknown): void {
  try {
    Promise.resolve(hook()).catch((error: unknown) =>
      runtime.log.error({ err: error, hook: name }, `${name} hook failed`),
    )
  } catch (error) {
    runtime.log.error({ err: error, hook: name }, `${name} hook failed`)
  }
}
