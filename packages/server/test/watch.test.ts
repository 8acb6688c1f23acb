// sessions.watch: a Server-Sent Events stream that tells an open tab its session ended,
// on whichever instance the session was ended, read here as a browser would read it.
import { createDatabase } from '@breakwater/db'
import { openTestDatabase, startTestPostgres } from '@breakwater/db/testing'
import t from 'tap'
import {
  Client,
  manualClock,
  PASSWORD,
  registerBearer,
  startServer,
  uniqueEmail,
} from './helpers.js'

/** When each event arrived (performance.now()). */
const arrivals = new WeakMap<object, number>()

interface WatchEvent {
  type: 'active' | 'ended'
  reason?: string
  expiresAt?: string
}

/** One open `sessions.watch` stream: its data events as they come, and how it ended. */
interface Stream {
  status: number
  contentType: string | null
  events: WatchEvent[]
  /** Resolves when the server closes the stream (or the test aborts it). */
  closed: Promise<void>
  /** Resolves with the first event matching, or rejects after `ms`. */
  next(match: (event: WatchEvent) => boolean, ms?: number): Promise<WatchEvent>
  /** The body when the server refused the stream. */
  refusal?: { error?: { data?: { reason?: string } } }
  abort(): void
}

async function watch(url: string, headers: Record<string, string>): Promise<Stream> {
  const controller = new AbortController()
  const response = await fetch(`${url}/trpc/sessions.watch`, {
    headers: { accept: 'text/event-stream', ...headers },
    signal: controller.signal,
  })
  const events: WatchEvent[] = []
  const waiters = new Set<() => void>()
  const stream: Stream = {
    status: response.status,
    contentType: response.headers.get('content-type'),
    events,
    closed: Promise.resolve(),
    abort: () => controller.abort(),
    async next(match, ms = 3000) {
      const deadline = Date.now() + ms
      for (;;) {
        const found = events.find(match)
        if (found) return found
        if (Date.now() > deadline) throw new Error(`no matching event in ${ms} ms`)
        await new Promise<void>((resolve) => {
          const done = () => {
            waiters.delete(done)
            resolve()
          }
          waiters.add(done)
          setTimeout(done, 50)
        })
      }
    },
  }
  if (!response.headers.get('content-type')?.startsWith('text/event-stream')) {
    // tRPC answers an SSE request it refuses with an error event or a JSON body.
    const text = await response.text()
    const data = /^data: (.*)$/m.exec(text)?.[1]
    try {
      stream.refusal = JSON.parse(data ?? text)
    } catch {
      stream.refusal = {}
    }
    return stream
  }
  stream.closed = (async () => {
    const decoder = new TextDecoder()
    let buffer = ''
    try {
      for await (const chunk of response.body!) {
        buffer += decoder.decode(chunk as Uint8Array, { stream: true })
        let end = buffer.indexOf('\n\n')
        while (end !== -1) {
          const block = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          const fields = Object.fromEntries(
            block
              .split('\n')
              .map((line) => [
                line.slice(0, line.indexOf(':')),
                line.slice(line.indexOf(':') + 1).trim(),
              ]),
          )
          if (fields.data && !fields.event) {
            const parsed = JSON.parse(fields.data)
            const event =
              parsed && typeof parsed === 'object' && 'data' in parsed ? parsed.data : parsed
            arrivals.set(event, performance.now())
            events.push(event)
          }
          if (fields.event === 'serialized-error') {
            // The error shape itself: { code, message, data: { reason } }.
            stream.refusal = { error: JSON.parse(fields.data ?? '{}') }
          }
          for (const wake of [...waiters]) wake()
          end = buffer.indexOf('\n\n')
        }
      }
    } catch {
      // Aborted by the test.
    }
  })()
  return stream
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

t.test('one instance (PGlite)', async (t) => {
  const database = await openTestDatabase('pglite')
  const clock = manualClock()
  const server = await startServer(database, {
    clock: clock.read,
    accessTokenTtl: '1m',
    sessionMaxAge: '1h',
    refreshIdleTtl: '30m',
    loginIpLimit: '1000/1m',
  })
  t.teardown(async () => {
    await server.close()
    await database.close()
  })

  await t.test('no token: refused like any protected call, no stream', async (t) => {
    const stream = await watch(server.url, {})
    await stream.closed
    t.equal(stream.refusal?.error?.data?.reason, 'TOKEN_MISSING')
    t.same(stream.events, [], 'no event')
    const forged = await watch(server.url, bearer('a.b.c'))
    await forged.closed
    t.equal(forged.refusal?.error?.data?.reason, 'TOKEN_INVALID')
  })

  await t.test('logout elsewhere ends the stream with its reason', async (t) => {
    const { tokens, result } = await registerBearer(server.url, uniqueEmail('watch'))
    const stream = await watch(server.url, bearer(tokens.accessToken))
    t.equal(stream.status, 200)
    t.match(stream.contentType, /^text\/event-stream/)
    const active = await stream.next((e) => e.type === 'active')
    t.equal(
      active.expiresAt,
      result.session.expiresAt,
      'says when the session expires at the latest',
    )

    const other = new Client(server.url)
    other.bearer = tokens.accessToken
    await other.mutation('auth.logout', { refreshToken: tokens.refreshToken })
    const ended = await stream.next((e) => e.type === 'ended')
    t.equal(ended.reason, 'logout')
    await stream.closed
    t.equal(stream.events.length, 2, 'active, ended, and the stream closes')
  })

  await t.test('outlives the access token that opened it', async (t) => {
    const { tokens, client, email } = await registerBearer(server.url, uniqueEmail('watch'))
    const stream = await watch(server.url, bearer(tokens.accessToken))
    await stream.next((e) => e.type === 'active')
    clock.advance(5 * 60)
    t.equal((await client.query('auth.me')).reason, 'TOKEN_EXPIRED', 'the token is dead')
    // The user signs in elsewhere and ends every other session: the old stream hears it.
    const elsewhere = new Client(server.url)
    const signedIn = await elsewhere.mutation<{ tokens: { accessToken: string } }>('auth.login', {
      email,
      password: PASSWORD,
      transport: 'bearer',
    })
    elsewhere.bearer = signedIn.data.tokens.accessToken
    await elsewhere.mutation('auth.logoutAll', { keepCurrent: true })
    const ended = await stream.next((e) => e.type === 'ended')
    t.equal(ended.reason, 'logout_all')
    clock.advance(-5 * 60)
  })

  await t.test('the session reaching its absolute lifetime ends the stream', async (t) => {
    const { tokens } = await registerBearer(server.url, uniqueEmail('watch'))
    const stream = await watch(server.url, bearer(tokens.accessToken))
    await stream.next((e) => e.type === 'active')
    t.same(
      stream.events.map((e) => e.type),
      ['active'],
      'nothing while the session lives',
    )
    stream.abort()
    await stream.closed
    // A session already past its lifetime: refused at the door.
    clock.advance(2 * 3600)
    const late = await watch(server.url, bearer(tokens.accessToken))
    await late.closed
    t.match(late.refusal?.error?.data?.reason, /^(TOKEN_EXPIRED|SESSION_EXPIRED)$/)
    clock.advance(-2 * 3600)
  })

  await t.test('closing the server ends open streams instead of waiting for them', async (t) => {
    const second = await startServer(database, { loginIpLimit: '1000/1m' })
    const { tokens } = await registerBearer(second.url, uniqueEmail('watch'))
    const stream = await watch(second.url, bearer(tokens.accessToken))
    await stream.next((e) => e.type === 'active')
    const started = performance.now()
    await second.close()
    await stream.closed
    const took = performance.now() - started
    t.ok(took < 5000, `close() returned in ${took.toFixed(0)} ms with a stream open`)
    t.notOk(
      stream.events.some((e) => e.type === 'ended'),
      'a shutdown is not a session end: the client reconnects elsewhere',
    )
  })
})

t.test(
  'two instances on one PostgreSQL: an end on B reaches a stream on A within 1 s',
  async (t) => {
    const postgres = await startTestPostgres()
    const url = await postgres.createDatabaseUrl()
    const databaseA = await createDatabase(url)
    const databaseB = await createDatabase(url)
    const a = await startServer(databaseA, { loginIpLimit: '1000/1m' })
    const b = await startServer(databaseB, { loginIpLimit: '1000/1m' })
    t.teardown(async () => {
      await a.close()
      await b.close()
      await databaseA.close()
      await databaseB.close()
    })
    const lags: number[] = []
    for (const [name, end] of [
      [
        'sessions.revoke',
        (c: Client, sessionId: string) => c.mutation('sessions.revoke', { sessionId }),
      ],
      ['auth.logoutAll', (c: Client) => c.mutation('auth.logoutAll')],
      [
        'auth.changePassword',
        (c: Client) =>
          c.mutation('auth.changePassword', {
            currentPassword: PASSWORD,
            newPassword: 'another sturdy passphrase 43',
          }),
      ],
    ] as const) {
      const { tokens, result, email } = await registerBearer(a.url, uniqueEmail('watch'))
      const stream = await watch(a.url, bearer(tokens.accessToken))
      await stream.next((e) => e.type === 'active')
      // A second device of the same user, on the other instance.
      const onB = new Client(b.url)
      const login = await onB.mutation<{ tokens: { accessToken: string } }>('auth.login', {
        email,
        password: PASSWORD,
        transport: 'bearer',
      })
      onB.bearer = login.data.tokens.accessToken
      const reply = await end(onB, result.session.id)
      // From B's answer (the end committed; a password change's hashing is not the feed's delay).
      const answered = performance.now()
      t.equal(reply.status, 200, `${name} on B`)
      const ended = await stream.next((e) => e.type === 'ended', 3000)
      lags.push(Math.max(0, arrivals.get(ended)! - answered))
      t.ok(ended.reason, `${name}: the stream on A says why (${ended.reason})`)
      await stream.closed
    }
    const worst = Math.max(...lags)
    t.ok(
      worst < 1000,
      `every end reached A's stream within 1 s of B's answer (worst ${worst.toFixed(0)} ms)`,
    )
    t.comment(`end on B → event on A: ${lags.map((ms) => ms.toFixed(0)).join(', ')} ms`)
  },
)
