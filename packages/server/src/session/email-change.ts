import {
  canonicalEmail,
  changeUserEmail,
  consumeOneTimeToken,
  DatabaseError,
  findUserByEmail,
  findUserById,
} from '@breakwater/db'
import { BreakwaterError } from '../errors.js'
import { limitAttemptsFromIp } from '../guard/rate-limit.js'
import type { Runtime } from '../runtime.js'
import type { ClientInfo } from './client.js'
import { forgetUser } from './current.js'
import { linkRefused, mailLink, mayMail, sendMail, tokenDigest } from './mail-links.js'
import { checkCurrentPassword } from './password-check.js'

/**
 * `auth.requestEmailChange`: the current password (the guarded check), then a
 * link to the new address and a notice to the old one. Nothing changes until
 * the new mailbox confirms. An address another account holds gets no link
 * and the same answer: the caller learns nothing about other accounts.
 */
export async function requestEmailChange(
  runtime: Runtime,
  caller: { userId: string; sessionId: string },
  input: { newEmail: string; currentPassword: string },
  client: ClientInfo,
): Promise<void> {
  const user = await checkCurrentPassword(
    runtime,
    caller,
    input.currentPassword,
    client,
    'requestEmailChange',
  )
  if (canonicalEmail(input.newEmail) === user.emailCanonical)
    throw new BreakwaterError('EMAIL_TAKEN', { message: 'This is already your email address.' })
  const taken = (await findUserByEmail(runtime.database.db, input.newEmail)) !== undefined
  // Both mailboxes count: a stolen session cannot flood either.
  const allowed =
    !taken && (await mayMail(runtime, input.newEmail)) && (await mayMail(runtime, user.email))
  if (allowed) {
    await mailLink(runtime, user, 'change_email', runtime.options.emailChangeTtl, {
      to: input.newEmail,
      data: { email: input.newEmail },
    })
    sendMail(runtime, 'emailChangeNotice', user.email, {
      email: user.email,
      displayName: user.displayName,
      newEmail: input.newEmail,
      minutes: Math.round(runtime.options.emailChangeTtl / 60),
    })
  }
  await runtime.audit({
    type: 'email.change_requested',
    userId: user.id,
    sessionId: caller.sessionId,
    ...client,
    details: taken ? { addressTaken: true } : { sent: allowed },
  })
}

/**
 * `auth.confirmEmailChange`: uses the link's token (once, atomically) and
 * moves the account to the address it was mailed to, verified. An address
 * taken in the meantime: `EMAIL_TAKEN`, and the account keeps its address.
 */
export async function confirmEmailChange(
  runtime: Runtime,
  token: string,
  client: ClientInfo,
): Promise<void> {
  await limitAttemptsFromIp(runtime, client.ip)
  const used = await consumeOneTimeToken(runtime.database.db, {
    purpose: 'change_email',
    tokenHash: tokenDigest(runtime, 'change_email', token),
    now: runtime.now(),
  })
  const email = used?.data?.email
  if (!used || typeof email !== 'string') throw await linkRefused(runtime, 'change_email', client)
  const before = await findUserById(runtime.database.db, used.userId)
  try {
    const changed = await changeUserEmail(runtime.database.db, {
      userId: used.userId,
      email,
      now: runtime.now(),
    })
    // The user was deleted after the token was spent.
    if (!changed) throw await linkRefused(runtime, 'change_email', client)
  } catch (error) {
    if (error instanceof DatabaseError && error.code === 'EMAIL_TAKEN')
      throw new BreakwaterError('EMAIL_TAKEN')
    throw error
  }
  forgetUser(runtime, used.userId)
  await runtime.audit({
    type: 'email.changed',
    userId: used.userId,
    ...client,
    // The addresses' domains only: enough to investigate, not a copy of the mailbox.
    details: { from: domainOf(before?.email), to: domainOf(email) },
  })
}

function domainOf(email: string | undefined): string | null {
  return email === undefined ? null : email.slice(email.lastIndexOf('@') + 1)
}
