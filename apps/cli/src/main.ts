#!/usr/bin/env node
import { parseArgs } from 'node:util'
import { readReason } from '@breakwater/client'
import { changeEmail } from './commands/change-email.js'
import { deleteAccount } from './commands/delete-account.js'
import { login, loginWithCode, register } from './commands/login.js'
import { logout } from './commands/logout.js'
import { mfa } from './commands/mfa.js'
import { resetPassword } from './commands/reset-password.js'
import { revoke, sessions } from './commands/sessions.js'
import { verify } from './commands/verify.js'
import { whoami } from './commands/whoami.js'
import { type CommandContext, createContext, DEFAULT_URL, resolveServer } from './context.js'
import { describe } from './errors.js'
import { UsageError } from './prompt.js'

const USAGE = `Usage: breakwater <command> [options]

Commands:
  register --email E [--name N]  create an account and sign in (password from stdin or a prompt)
  login --email E                sign in (password from stdin or a prompt)
  login --code --email E         sign in with a 6-digit code mailed to E
  whoami                         print the signed-in email
  verify                         mail yourself a link to verify your email address
  verify <link>                  verify it with the link from that mail (or its token)
  reset-password --email E       mail a reset link to E, then ask for it and the new password
  reset-password <link>          set a new password with that link (every session ends)
  change-email --email NEW       ask your password, then mail a confirmation link to NEW
  change-email <link>            confirm the change with that link
  delete-account [--yes]         delete your account (asks your password, then your email
                                 to confirm unless --yes) and forget its credentials
  mfa enable                     set up an authenticator app: prints its secret, asks a code,
                                 then prints 10 recovery codes (shown once)
  mfa disable                    turn the authenticator app off (asks a code from it)
  sessions                       list your sessions
  revoke <session-id>            end a session
  logout                         end this session and forget its credentials

Options:
  --url URL   the server (default: $BREAKWATER_URL or ${DEFAULT_URL})
  -h, --help  show this help

Passwords, links and codes are read from a hidden prompt, or one per line from piped
stdin in the order asked. Quote a pasted link: '<link>'. Links work once.
Changing your email, factors or account asks your password again when you signed in
more than a few minutes ago.
Credentials live in $BREAKWATER_CONFIG_DIR (default ~/.config/breakwater), mode 0600.`

const OPTIONS = {
  url: { type: 'string' },
  email: { type: 'string' },
  name: { type: 'string' },
  code: { type: 'boolean' },
  yes: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const

const LINK_COMMANDS = new Set(['verify', 'reset-password', 'change-email'])
const KNOWN_OPTION = /^(?:-h|--(?:url|email|name|code|yes|help)(?:=.*)?)$/
const TAKES_VALUE = /^--(?:url|email|name)$/

/**
 * A bare link token is base64url, so one in 64 starts with '-' and would read
 * as an unknown option: for the commands that take a link, any argument that is
 * not one of our options goes after '--', where it can only be the positional.
 */
function tokensAsPositionals(argv: string[]): string[] {
  if (!LINK_COMMANDS.has(argv.find((arg) => !arg.startsWith('-')) ?? '')) return argv
  const options: string[] = []
  const positionals: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1))
      break
    }
    if (KNOWN_OPTION.test(arg)) {
      options.push(arg)
      if (TAKES_VALUE.test(arg) && i + 1 < argv.length) options.push(argv[++i]!)
    } else positionals.push(arg)
  }
  return [...options, '--', ...positionals]
}

/** Runs one command; resolves to the exit code. */
export async function run(argv: string[]): Promise<number> {
  const out = (line: string) => process.stdout.write(`${line}\n`)
  let server = process.env.BREAKWATER_URL ?? DEFAULT_URL
  let ctx: CommandContext | undefined
  try {
    const { values, positionals } = parseArgs({
      args: tokensAsPositionals(argv),
      allowPositionals: true,
      options: OPTIONS,
    })
    const [command, ...rest] = positionals
    if (values.help || !command || command === 'help') {
      out(USAGE)
      return command || values.help ? 0 : 2
    }
    server = resolveServer(values.url)
    ctx = createContext(server, out)
    switch (command) {
      case 'register':
        await register(ctx, values)
        break
      case 'login':
        await (values.code ? loginWithCode(ctx, values) : login(ctx, values))
        break
      case 'whoami':
        await whoami(ctx)
        break
      case 'verify':
        await verify(ctx, rest[0])
        break
      case 'reset-password':
        await resetPassword(ctx, values, rest[0])
        break
      case 'change-email':
        await changeEmail(ctx, values, rest[0])
        break
      case 'delete-account':
        await deleteAccount(ctx, values)
        break
      case 'sessions':
        await sessions(ctx)
        break
      case 'revoke':
        await revoke(ctx, rest[0])
        break
      case 'logout':
        await logout(ctx)
        break
      case 'mfa':
        await mfa(ctx, rest[0])
        break
      default:
        throw new UsageError(`Unknown command: ${command}. See: breakwater --help`)
    }
    return 0
  } catch (error) {
    // A step-up the client gave up on (wrong password, rate limit) says why better than REAUTH_REQUIRED.
    const failure = readReason(error) === 'REAUTH_REQUIRED' ? ctx?.stepUp.failure : undefined
    const { message, exitCode } = describe(failure ?? error, server)
    process.stderr.write(`breakwater: ${message}\n`)
    return exitCode
  }
}

process.exitCode = await run(process.argv.slice(2))
