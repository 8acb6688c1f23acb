import type { CommandContext } from '../context.js'
import { CommandError, rephrase } from '../errors.js'
import { readPassword, readSecret, UsageError } from '../prompt.js'

function requireEmail(email: string | undefined): string {
  if (!email) throw new UsageError('--email is required.')
  return email
}

/** `login --email E`: signs in; the tokens go to the credentials file. */
export async function login(ctx: CommandContext, options: { email?: string }): Promise<void> {
  const email = requireEmail(options.email)
  const password = await readPassword()
  const result = await ctx.client.auth.login.mutate({ email, password, transport: 'bearer' })
  const { user } = 'mfaRequired' in result ? await secondFactor(ctx, result.challenge) : result
  ctx.out(`Signed in as ${user.email}.`)
}

/**
 * The second step of a login (SPEC §10): a code from the authenticator app, or
 * a recovery code (`xxxxx-xxxxx`); the client stores the tokens as for login.
 */
async function secondFactor(ctx: CommandContext, challenge: string) {
  const answer = (
    await readSecret(
      'Code from your authenticator app (or a recovery code): ',
      'A code from the authenticator app is required (type it at the prompt or pipe it on stdin).',
    )
  ).trim()
  const proof = /^\d[\d\s]*$/.test(answer) ? { code: answer } : { recoveryCode: answer }
  return rephrase(
    ctx.client.auth.verifySecondFactor.mutate({ challenge, ...proof, transport: 'bearer' }),
    { INVALID_CREDENTIALS: 'Wrong code, or this sign-in expired: run breakwater login again.' },
  )
}

/**
 * `login --code --email E`: has a 6-digit code mailed to E, asks for it, and
 * signs in with it; the tokens go to the credentials file as with `login`.
 */
export async function loginWithCode(
  ctx: CommandContext,
  options: { email?: string },
): Promise<void> {
  const email = requireEmail(options.email)
  await ctx.client.auth.requestSignInCode.mutate({ email })
  // The server answers alike for unknown addresses (no enumeration); so do we.
  ctx.out(`If ${email} has an account, a sign-in code is on its way to it.`)
  // Spaces copied along ("123 456") are no part of the code; a malformed one costs no attempt.
  const code = (
    await readSecret(
      'Code from the mail: ',
      'The code from the mail is required (type it at the prompt or pipe it on stdin).',
    )
  ).replace(/\s+/g, '')
  if (!/^\d{6}$/.test(code)) throw new CommandError('A sign-in code is 6 digits.')
  // The client stores the tokens, as for login.
  const result = await rephrase(
    ctx.client.auth.signInWithCode.mutate({ email, code, transport: 'bearer' }),
    {
      INVALID_CREDENTIALS:
        'Wrong or expired code. Ask for a new one: breakwater login --code --email <email>',
    },
  )
  const { user } = 'mfaRequired' in result ? await secondFactor(ctx, result.challenge) : result
  ctx.out(`Signed in as ${user.email}.`)
}

/** `register --email E [--name N]`: creates the account and signs in. */
export async function register(
  ctx: CommandContext,
  options: { email?: string; name?: string },
): Promise<void> {
  const email = requireEmail(options.email)
  const password = await readPassword()
  const { user } = await ctx.client.auth.register.mutate({
    email,
    password,
    transport: 'bearer',
    ...(options.name ? { displayName: options.name } : {}),
  })
  ctx.out(`Registered and signed in as ${user.email}.`)
}
