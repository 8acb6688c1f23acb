import { CommandError, LINK_INVALID_MESSAGE } from './errors.js'
import { UsageError } from './prompt.js'

/** The web-app page each mailed link opens (SPEC §9), by the command that uses it instead. */
const PAGES = {
  verify: 'verify-email',
  'reset-password': 'reset-password',
  'change-email': 'confirm-email-change',
} as const

export type LinkCommand = keyof typeof PAGES

// What the server mints (base64url, ≥ 128 bits) and accepts; anything else is
// refused here, before a request, so a typo costs no rate-limit attempt.
const TOKEN = /^[A-Za-z0-9_-]{16,256}$/

/**
 * The token of a mailed link, given the whole link as pasted
 * (`https://app.example.com/reset-password?token=…`, with or without the
 * scheme, in `<…>` or quotes as some mail clients copy it) or the token
 * alone. A link meant for another command is a usage error naming it.
 */
export function linkToken(input: string, command: LinkCommand): string {
  const text = input.trim().replace(/^[<"']+|[>"']+$/g, '')
  const query = /[?&]token=([^&#\s]*)/.exec(text)
  const token = query ? safeDecode(query[1]!) : text
  if (query) {
    const page = /([\w-]+)\/?\?/.exec(text.slice(0, query.index + 1))?.[1]
    const owner = (Object.keys(PAGES) as LinkCommand[]).find((name) => PAGES[name] === page)
    if (owner && owner !== command)
      throw new UsageError(`This link is for another command: breakwater ${owner} '<link>'.`)
  }
  if (!TOKEN.test(token)) throw new CommandError(LINK_INVALID_MESSAGE)
  return token
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value)
  } catch {
    return ''
  }
}
