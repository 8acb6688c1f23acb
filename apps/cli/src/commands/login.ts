import type { CommandContext } from '../context.js'
import { readPassword, UsageError } from '../prompt.js'

function requireEmail(email: string | undefined): string {
  if (!email) throw new UsageError('--email is required.')
  return email
}

/** `login --email E`: signs in; the tokens go to the credentials file. */
export async function login(ctx: CommandContext, options: { email?: string }): Promise<void> {
  const email = requireEmail(options.email)
  const password = await readPassword()
  const { user } = await ctx.client.auth.login.mutate({ email, password, transport: 'bearer' })
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
