import { createBreakwaterClient, type TokenStore } from '@breakwater/client'
import type { BreakwaterRouter } from '@breakwater/server'
import { type StepUpOutcome, stepUpPrompt } from './step-up.js'
import { credentialsStore } from './store.js'

export const DEFAULT_URL = 'http://127.0.0.1:3000'
const USER_AGENT = `breakwater-cli/0.1.0 (node ${process.version})`

/** What every command gets: a client on the bearer transport, its store, and where output goes. */
export interface CommandContext {
  client: ReturnType<typeof createBreakwaterClient<BreakwaterRouter>>
  store: TokenStore
  /** The server, e.g. `http://127.0.0.1:3000` (the tRPC endpoint is `/trpc` under it). */
  server: string
  out: (line: string) => void
  /** Remarks beside the output (stderr), so stdout stays what scripts read. */
  note: (line: string) => void
  /** Why a step-up prompt failed, if it did for a reason `REAUTH_REQUIRED` does not say. */
  stepUp: StepUpOutcome
}

/** `--url`, else `BREAKWATER_URL`, else the default; `/trpc` is added unless given. */
export function resolveServer(
  flag: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): string {
  const raw = (flag ?? env.BREAKWATER_URL ?? DEFAULT_URL).trim().replace(/\/+$/, '')
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new TypeError(`Not a URL: ${raw}`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new TypeError(`Not an http(s) URL: ${raw}`)
  return raw
}

export function createContext(
  server: string,
  out: (line: string) => void,
  note: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): CommandContext {
  const store = credentialsStore()
  const trpcUrl = server.endsWith('/trpc') ? server : `${server}/trpc`
  const stepUp: StepUpOutcome = {}
  const client: CommandContext['client'] = createBreakwaterClient<BreakwaterRouter>({
    url: trpcUrl,
    transport: 'bearer',
    store,
    // The client stores the fresh access token reauthenticate answers, then retries the call once.
    onReauthRequired: stepUpPrompt(
      (password) => client.auth.reauthenticate.mutate({ password }),
      note,
      stepUp,
    ),
    // Name the CLI in `sessions` listings instead of undici's generic agent.
    fetch: (input, init) => {
      const headers = new Headers(init?.headers)
      headers.set('user-agent', USER_AGENT)
      return fetch(input, { ...init, headers })
    },
  })
  return { client, store, server, out, note, stepUp }
}
