import { Writable } from 'node:stream'
import { type Database, findUserByEmail } from '@breakwater/db'
import { forEachDialect } from '@breakwater/db/testing'
import { sql } from 'kysely'
import t, { type Test } from 'tap'
import {
  type AuditEvent,
  BreakwaterError,
  type BreakwaterHooks,
  breakwaterRouter,
} from '../src/index.js'
import { Client, PASSWORD, registerBearer, sleep, startServer, uniqueEmail } from './helpers.js'

/** The team's own table, in `public`, referencing Breakwater's user id. */
async function createProfiles(database: Database): Promise<void> {
  await sql`create table if not exists public.profiles (
    user_id uuid primary key references ${sql.id(database.schema, 'users')}(id) on delete cascade,
    company text not null
  )`.execute(database.db)
}

async function profiles(database: Database): Promise<Array<{ user_id: string; company: string }>> {
  const { rows } = await sql<{
    user_id: string
    company: string
  }>`select user_id, company from public.profiles order by company`.execute(database.db)
  return rows
}

/** Captures the server's log lines. */
function logSink() {
  const lines: Array<Record<string, unknown>> = []
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line))
      done()
    },
  })
  return { lines, logger: { level: 'info', stream } }
}

async function waitFor(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 100 && !check(); i++) await sleep(20)
  if (!check()) throw new Error(`timed out waiting for ${what}`)
}

t.test('hooks run inside the registration transaction and after the fact', (t) =>
  forEachDialect<Test>(t, async (t, database) => {
    await createProfiles(database)
    const signIns: string[] = []
    const ended: string[] = []
    const audited: string[] = []
    const hooks: BreakwaterHooks = {
      async beforeCreateUser({ email, fields }) {
        if (email.endsWith('@closed.test'))
          throw new BreakwaterError('REGISTRATION_REJECTED', {
            message: 'Sign-ups from closed.test are closed.',
          })
        if (email.startsWith('crash')) throw new Error('internal detail the client must not see')
        return { fields: { ...fields, company: String(fields.company ?? 'none').toUpperCase() } }
      },
      async afterCreateUser(user, { transaction }) {
        const company = String(user.fields.company)
        await transaction.insertInto('profiles').values({ user_id: user.id, company }).execute()
        if (company === 'ROLLBACK') throw new Error('the profile service refused')
      },
      afterSignIn: async ({ user, method }) => {
        signIns.push(`${method}:${user.email.toLowerCase()}`)
      },
      afterSessionEnd: ({ reason, sessionIds }) => {
        ended.push(`${reason}:${sessionIds.length}`)
      },
    }
    const { lines, logger } = logSink()
    const server = await startServer(
      database,
      {
        hooks,
        onAuditEvent: async (event: AuditEvent) => {
          audited.push(event.type)
          if (event.type === 'login.succeeded') throw new Error('audit sink is down')
        },
      },
      undefined,
      { logger },
    )
    t.teardown(server.close)

    const client = new Client(server.url)
    const email = uniqueEmail('hooked')
    const ok = await client.mutation<{ user: { id: string } }>('auth.register', {
      email,
      password: PASSWORD,
      transport: 'bearer',
    })
    t.equal(ok.status, 200)
    t.same(
      (await profiles(database)).map((row) => row.user_id),
      [ok.data.user.id],
      "afterCreateUser wrote the team's row, referencing Breakwater's user id",
    )
    t.same(
      (await findUserByEmail(database.db, email))?.fields,
      { company: 'NONE' },
      'the fields beforeCreateUser returned',
    )

    const closed = await client.mutation('auth.register', {
      email: `someone-${Date.now()}@closed.test`,
      password: PASSWORD,
    })
    t.equal(closed.status, 403)
    t.equal(closed.reason, 'REGISTRATION_REJECTED')
    t.equal(
      closed.body.error?.message,
      'Sign-ups from closed.test are closed.',
      "the team's own message",
    )

    const crashEmail = `crash-${uniqueEmail()}`
    const crashed = await client.mutation('auth.register', {
      email: crashEmail,
      password: PASSWORD,
    })
    t.equal(crashed.reason, 'REGISTRATION_REJECTED')
    t.equal(crashed.body.error?.message, 'The registration was refused.', 'no internal detail')
    t.notOk(await findUserByEmail(database.db, crashEmail), 'no user')
    t.ok(
      lines.some((line) => line.msg === 'a registration hook refused a registration'),
      'the cause is logged for the team',
    )

    // afterCreateUser throws after its insert: the user and the profile row both roll back.
    const before = (await profiles(database)).length
    const second = await startServer(database, {
      hooks: {
        ...hooks,
        beforeCreateUser: () => ({ fields: { company: 'ROLLBACK' } }),
      },
    })
    t.teardown(second.close)
    const refusedEmail = uniqueEmail('refused')
    const refused = await new Client(second.url).mutation('auth.register', {
      email: refusedEmail,
      password: PASSWORD,
    })
    t.equal(refused.reason, 'REGISTRATION_REJECTED')
    t.notOk(await findUserByEmail(database.db, refusedEmail), 'no user after afterCreateUser threw')
    t.equal((await profiles(database)).length, before, 'and no profile row')
    const again = await new Client(server.url).mutation('auth.register', {
      email: refusedEmail,
      password: PASSWORD,
    })
    t.equal(again.status, 200, 'the address is free for a real registration')

    await waitFor(() => signIns.length >= 2, 'afterSignIn')
    t.ok(signIns.includes(`register:${email.toLowerCase()}`), 'afterSignIn after a registration')
    const login = await new Client(server.url).mutation<{ tokens: { accessToken: string } }>(
      'auth.login',
      { email, password: PASSWORD, transport: 'bearer' },
    )
    t.equal(login.status, 200, 'a failing audit sink fails no request')
    await waitFor(
      () => signIns.includes(`password:${email.toLowerCase()}`),
      'afterSignIn after a login',
    )
    await waitFor(
      () => lines.some((line) => line.msg === 'onAuditEvent sink failed'),
      'the audit failure in the log',
    )
    t.ok(audited.includes('login.succeeded'), 'the async sink got the event')

    const loggedIn = new Client(server.url)
    loggedIn.bearer = login.data.tokens.accessToken
    await loggedIn.mutation('auth.logout')
    await waitFor(() => ended.includes('logout:1'), 'afterSessionEnd')
    t.pass('afterSessionEnd heard the logout')
    for (const line of lines) {
      t.notOk(JSON.stringify(line).includes(PASSWORD), 'no password in any log line')
    }
  }),
)

t.test('a throwing after-the-fact hook is logged and changes nothing', (t) =>
  forEachDialect<Test>(
    t,
    async (t, database) => {
      const { lines, logger } = logSink()
      const server = await startServer(
        database,
        {
          router: breakwaterRouter,
          hooks: {
            afterSignIn: () => {
              throw new Error('analytics down')
            },
            afterSessionEnd: async () => Promise.reject(new Error('webhook down')),
          },
        },
        undefined,
        { logger },
      )
      t.teardown(server.close)
      const { client } = await registerBearer(server.url)
      const me = await client.query<{ user: { email: string } }>('auth.me')
      t.equal(me.status, 200, 'signed in despite the hook')
      t.equal((await client.mutation('auth.logout')).status, 200)
      await waitFor(
        () =>
          lines.some((line) => line.msg === 'afterSignIn hook failed') &&
          lines.some((line) => line.msg === 'afterSessionEnd hook failed'),
        'both failures logged',
      )
      t.pass('both hook failures are in the log')
    },
    { dialects: ['pglite'] },
  ),
)

t.test('user fields on Breakwater’s own instance are refused when undeclared', async (t) => {
  const { openTestDatabase } = await import('@breakwater/db/testing')
  const database = await openTestDatabase('pglite')
  t.teardown(() => database.close())
  const server = await startServer(database)
  t.teardown(server.close)
  const email = uniqueEmail('plain')
  const reply = await new Client(server.url).mutation<{ user: Record<string, unknown> }>(
    'auth.register',
    { email, password: PASSWORD, company: 'ignored' },
  )
  t.equal(reply.status, 200, 'without userFields, unknown keys are ignored as before')
  t.notOk('company' in reply.data.user)
  t.same((await findUserByEmail(database.db, email))?.fields, {}, 'and nothing is stored')
})
