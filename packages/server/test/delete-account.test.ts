// SPEC §9: account deletion, with a team table that references the user's id.
import { type Database, findUserByEmail } from '@breakwater/db'
import { forEachDialect } from '@breakwater/db/testing'
import { sql } from 'kysely'
import t, { type Test } from 'tap'
import { BreakwaterError, type BreakwaterHooks } from '../src/index.js'
import {
  type AuthResult,
  Client,
  captureLog,
  PASSWORD,
  registerBearer,
  startServer,
  uniqueEmail,
} from './helpers.js'

/** A new address as the server stores it (domain in lower case), to compare with mail and `me`. */
const freshEmail = (prefix: string) => uniqueEmail(prefix).toLowerCase()
const NEW_PASSWORD = 'an even sturdier passphrase 43'

/** The team's own table, referencing Breakwater's user id without a cascade. */
async function createInvoices(database: Database): Promise<void> {
  await sql`create table if not exists public.invoices (
    user_id uuid not null references ${sql.id(database.schema, 'users')}(id),
    amount integer not null
  )`.execute(database.db)
}

t.test('deleteAccount: every session ends, the user and its data go', (t) =>
  forEachDialect<Test>(t, async (t, database) => {
    await createInvoices(database)
    let refuse: 'crash' | 'on purpose' | false = false
    const hooks: BreakwaterHooks = {
      async beforeDeleteUser(user, { transaction }) {
        await transaction.deleteFrom('invoices').where('user_id', '=', user.id).execute()
        if (refuse === 'crash') throw new Error('the billing service says no')
        if (refuse === 'on purpose')
          throw new BreakwaterError('DELETION_REJECTED', { message: 'Settle your invoices first.' })
      },
    }
    const { logged, logger } = captureLog()
    const server = await startServer(database, { hooks }, undefined, { logger })
    t.teardown(server.close)
    const owner = await registerBearer(server.url, freshEmail('leaving'))
    const userId = owner.result.user.id
    await sql`insert into public.invoices (user_id, amount) values (${userId}, 42)`.execute(
      database.db,
    )
    const second = await new Client(server.url).mutation<AuthResult>('auth.login', {
      email: owner.email,
      password: PASSWORD,
      transport: 'bearer',
    })
    const browser = new Client(server.url)
    await browser.mutation('auth.login', { email: owner.email, password: PASSWORD })
    await owner.client.mutation('auth.requestEmailVerification')

    const wrong = await owner.client.mutation('auth.deleteAccount', {
      currentPassword: NEW_PASSWORD,
    })
    t.equal(wrong.reason, 'INVALID_CREDENTIALS', 'the current password is checked')
    refuse = 'crash'
    const refused = await owner.client.mutation('auth.deleteAccount', { currentPassword: PASSWORD })
    t.equal(refused.status, 403, 'a throwing hook aborts the deletion…')
    t.equal(refused.reason, 'DELETION_REJECTED', '…with a fixed reason, as a registration hook')
    t.equal(
      refused.body.error?.message,
      'The account could not be deleted. Nothing was changed.',
      "and a fixed message, without the team's internals",
    )
    t.notMatch(JSON.stringify(refused.body), /billing/)
    const cause = logged.find((line) => line.includes('a beforeDeleteUser hook refused a deletion'))
    t.match(cause, /the billing service says no/, 'the cause is logged for the team')
    t.notOk(logged.join('').includes(PASSWORD), 'never the password')
    t.ok(await findUserByEmail(database.db, owner.email), 'nothing was deleted')
    const { rows: kept } =
      await sql`select 1 from public.invoices where user_id = ${userId}`.execute(database.db)
    t.equal(kept.length, 1, "the hook's own delete rolled back with it")
    t.equal((await owner.client.query('auth.me')).status, 200, 'the session lives on')
    refuse = 'on purpose'
    const chosen = await owner.client.mutation('auth.deleteAccount', { currentPassword: PASSWORD })
    t.same(
      [chosen.status, chosen.reason, chosen.body.error?.message],
      [403, 'DELETION_REJECTED', 'Settle your invoices first.'],
      'a BreakwaterError the team throws on purpose is answered as is',
    )
    t.ok(await findUserByEmail(database.db, owner.email), 'and nothing was deleted')
    t.equal((await owner.client.query('auth.me')).status, 200)
    const refusals = await database.db
      .selectFrom('auth_events')
      .select(['details', 'ip'])
      .where('user_id', '=', userId)
      .where('type', '=', 'account.deletion_refused')
      .orderBy('occurred_at')
      .execute()
    t.same(
      refusals.map((row) => row.details),
      [{ reason: 'DELETION_REJECTED' }, { reason: 'DELETION_REJECTED' }],
      "both refusals are audited, with the client's reason and not the team's words",
    )
    t.ok(
      refusals.every((row) => row.ip === '127.0.0.1'),
      'with the client address, as every step of the trail',
    )

    refuse = false
    const deleted = await browser.mutation('auth.deleteAccount', { currentPassword: PASSWORD })
    t.equal(deleted.status, 200)
    t.ok(
      deleted.setCookies.some((cookie) => cookie.startsWith('bw_access=;')),
      'the cookie session is cleared',
    )
    t.equal((await owner.client.query('auth.me')).reason, 'SESSION_REVOKED', 'every session ended')
    const refreshed = await new Client(server.url).mutation('auth.refresh', {
      refreshToken: second.data.tokens!.refreshToken,
    })
    t.ok(
      ['SESSION_REVOKED', 'REFRESH_INVALID'].includes(refreshed.reason ?? ''),
      `the other session cannot refresh (${refreshed.reason})`,
    )
    t.notOk(await findUserByEmail(database.db, owner.email), 'the user is gone')
    for (const table of ['sessions', 'one_time_tokens'] as const) {
      const rows = await database.db
        .selectFrom(table)
        .select('id')
        .where('user_id', '=', userId)
        .execute()
      t.equal(rows.length, 0, `no ${table} rows left`)
    }
    const { rows: invoices } =
      await sql`select 1 from public.invoices where user_id = ${userId}`.execute(database.db)
    t.equal(invoices.length, 0, "the team's rows went in the same transaction")
    const login = await new Client(server.url).mutation('auth.login', {
      email: owner.email,
      password: PASSWORD,
    })
    t.equal(login.reason, 'INVALID_CREDENTIALS')
    const again = await new Client(server.url).mutation<AuthResult>('auth.register', {
      email: owner.email,
      password: PASSWORD,
      transport: 'bearer',
    })
    t.equal(again.status, 200, 'the address can register again')
    t.not(again.data.user.id, userId, 'as a new user')
    const audited = await database.db
      .selectFrom('auth_events')
      .select('type')
      .where('user_id', '=', userId)
      .where('type', '=', 'account.deleted')
      .execute()
    t.equal(audited.length, 1, 'the deletion is audited under the old id')
  }),
)
