import { randomBytes } from 'node:crypto'
import {
  canonicalEmail,
  hitRateLimit,
  issueOneTimeToken,
  type OneTimeTokenPurpose,
  type User,
} from '@breakwater/db'
import { BreakwaterError } from '../errors.js'
import { DEFAULT_TEMPLATES, type MailContext, type MailTemplates } from '../mail/templates.js'
import type { Runtime } from '../runtime.js'
import type { ClientInfo } from './client.js'

/** 256 random bits, base64url: a link token (SPEC §9 asks ≥ 128). */
export function mintLinkToken(): string {
  return randomBytes(32).toString('base64url')
}

/**
 * How a token is stored: the server's keyed digest, bound to its purpose (a
 * dump of the table cannot even brute-force a 6-digit code without the secret).
 */
export function tokenDigest(runtime: Runtime, purpose: OneTimeTokenPurpose, token: string): string {
  return runtime.secrets.digest(purpose, token)
}

/**
 * Counts a mail to this address; past `mailLimit` nothing is sent and nothing
 * is said (the answer is the same either way: no enumeration).
 */
export async function mayMail(runtime: Runtime, email: string): Promise<boolean> {
  const { max, windowSeconds } = runtime.options.mailLimit
  const verdict = await hitRateLimit(runtime.database.db, {
    key: `mail:${canonicalEmail(email)}`,
    limit: max,
    windowSeconds,
    now: runtime.now(),
  })
  return verdict.allowed
}

/** Renders one of the team's templates (or Breakwater's) and hands it to the mailer. */
export function sendMail(
  runtime: Runtime,
  name: keyof MailTemplates,
  to: string,
  context: Omit<MailContext, 'appName'>,
): void {
  const render = runtime.options.mail.templates?.[name] ?? DEFAULT_TEMPLATES[name]
  const appName = runtime.options.mail.appName ?? 'Breakwater'
  runtime.mailer.send({ ...render({ appName, ...context }), to, purpose: name })
}

/** The page of the web app a link opens, per purpose (SPEC §9: `<PUBLIC_URL>/<action>?token=`). */
const LINK_ACTIONS = {
  verify_email: { action: 'verify-email', template: 'verifyEmail' },
  reset_password: { action: 'reset-password', template: 'resetPassword' },
  change_email: { action: 'confirm-email-change', template: 'changeEmail' },
} as const

/**
 * Issues a link token for a user (voiding the older one of its purpose) and
 * mails the link to `to` (the user's address, or the new one of an email change).
 */
export async function mailLink(
  runtime: Runtime,
  user: User,
  purpose: keyof typeof LINK_ACTIONS,
  ttlSeconds: number,
  options: { to?: string; data?: Record<string, unknown> } = {},
): Promise<void> {
  const token = mintLinkToken()
  await issueOneTimeToken(runtime.database.db, {
    userId: user.id,
    purpose,
    tokenHash: tokenDigest(runtime, purpose, token),
    ttlSeconds,
    ...(options.data ? { data: options.data } : {}),
    now: runtime.now(),
  })
  const { action, template } = LINK_ACTIONS[purpose]
  const to = options.to ?? user.email
  sendMail(runtime, template, to, {
    email: to,
    displayName: user.displayName,
    link: `${runtime.publicUrl()}/${action}?token=${token}`,
    minutes: Math.round(ttlSeconds / 60),
  })
}

/**
 * A link that opened nothing (unknown, used, replaced or expired): audited as
 * `link.failed` with its purpose only (never the token: a wrong guess can be one
 * character from a right one), then returned as `LINK_INVALID` for the caller to throw.
 */
export async function linkRefused(
  runtime: Runtime,
  purpose: keyof typeof LINK_ACTIONS,
  client: ClientInfo,
): Promise<BreakwaterError> {
  await runtime.audit({ type: 'link.failed', userId: null, ...client, details: { purpose } })
  return new BreakwaterError('LINK_INVALID')
}

// Per instance and address: the mailing work of successive requests runs in order, so
// the newer token is always the one left standing.
const behindTheAnswer = new WeakMap<Runtime, Map<string, Promise<void>>>()

/**
 * Runs the part of a request that only a known address needs (issuing the token,
 * queueing the mail) after the answer, so an unknown address cannot be told by the
 * time it takes (SPEC §9). Failures are logged, never answered; work for one
 * address runs in the order it was asked for.
 */
export function afterAnswering(runtime: Runtime, key: string, work: () => Promise<void>): void {
  let queues = behindTheAnswer.get(runtime)
  if (!queues) {
    queues = new Map()
    behindTheAnswer.set(runtime, queues)
  }
  const previous = queues.get(key) ?? Promise.resolve()
  const next = previous
    .then(work)
    .catch((error: unknown) =>
      runtime.log.error({ err: error }, 'a mailed link or code could not be issued'),
    )
  queues.set(key, next)
  void next.finally(() => {
    if (queues.get(key) === next) queues.delete(key)
  })
}
