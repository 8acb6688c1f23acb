import { spawnSync } from 'node:child_process'
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import {
  createDatabase,
  createUser,
  type Database,
  findTotp,
  listSigningKeys,
  type SigningKey as StoredKey,
  startTotpEnrolment,
} from '@breakwater/db'
import { forEachDialect, startTestPostgres } from '@breakwater/db/testing'
import {
  createSecretBox,
  generateSecret,
  generateSigningKey,
  type SigningKey,
} from '@breakwater/tokens'
import t, { type Test } from 'tap'
import { Keyring, rotateSigningKeys } from '../src/keys/keyring.js'
import { rewrapSigningKeys } from '../src/keys/rewrap.js'
import { SigningKeyUnreadable } from '../src/keys/sealed-keys.js'
import { resolveKeyEncryptionSecrets } from '../src/keys/secret.js'

const KEYRING = { alg: 'EdDSA', retireAfterSeconds: 960, reloadIntervalSeconds: 30 } as const

async function openKeyring(database: Database, secret: string | readonly string[]) {
  const { box } = resolveKeyEncryptionSecrets({ secret, database })
  const keyring = await Keyring.open({ ...KEYRING, database, secrets: box })
  keyring.close()
  return keyring
}

/** Every form a private key seed could take in a file or a dump. */
function seedForms(key: SigningKey): Array<[string, Buffer]> {
  const d = (key.privateKey.export({ format: 'jwk' }) as { d: string }).d
  const raw = Buffer.from(d, 'base64url')
  return [
    ['base64url', Buffer.from(d)],
    ['raw bytes', raw],
    ['base64', Buffer.from(raw.toString('base64'))],
    ['hex', Buffer.from(raw.toString('hex'))],
  ]
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((name) => path.join(dir, name))
    .filter((file) => statSync(file).isFile())
}

/** Every row of every table in every schema, as text: a pg_dump without pg_dump. */
async function sqlDump(t: Test, database: Database): Promise<string> {
  const tables = await database.db.introspection.getTables({ withInternalKyselyTables: true })
  t.ok(
    tables.some((table) => table.name === 'signing_keys'),
    `${tables.length} tables dumped`,
  )
  const parts: string[] = []
  for (const table of tables) {
    const name = table.schema ? `${table.schema}.${table.name}` : table.name
    const rows = await database.db
      .selectFrom(name as never)
      .selectAll()
      .execute()
    parts.push(`-- ${name}`, JSON.stringify(rows))
  }
  return parts.join('\n')
}

/** A legacy row, as written before migration 000006: the private JWK in clear. */
async function insertLegacyKey(database: Database, state: 'active' | 'pending') {
  const key = await generateSigningKey({ state })
  await database.db
    .insertInto('signing_keys')
    .values({
      kid: key.kid,
      alg: key.alg,
      state,
      public_jwk: JSON.stringify(key.publicJwk),
      private_jwk: JSON.stringify(key.privateKey.export({ format: 'jwk' })),
      created_at: new Date(),
      activated_at: state === 'active' ? new Date() : null,
    } as never)
    .execute()
  return key
}

const stored = (database: Database) => listSigningKeys(database.db)
const kids = (rows: readonly StoredKey[]) => rows.map((row) => row.kid).sort()

t.test('embedded database on disk: no file under the data directory holds a seed', async (t) => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'breakwater-keys-'))
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
  let database = await createDatabase(undefined, { dataDir, revocationSync: 'off' })
  const resolved = resolveKeyEncryptionSecrets({ database })
  t.equal(resolved.source, 'file')
  t.equal(resolved.file, path.join(dataDir, 'secret'))
  t.equal(statSync(resolved.file!).mode & 0o777, 0o600, 'the secret file is 0600')
  const keyring = await Keyring.open({ ...KEYRING, database, secrets: resolved.box })
  keyring.close()
  const published = keyring.keySet.keys
  t.same(published.map((key) => key.state).sort(), ['active', 'pending'])
  for (const row of await stored(database)) {
    t.equal(row.privateJwk, null, `${row.kid}: no plaintext left`)
    t.match(row.sealedPrivateKey, /^v1\./)
  }
  await database.close()

  const files = filesUnder(dataDir)
  t.ok(files.length > 100, `${files.length} files scanned`)
  const contents = files.map((file) => readFileSync(file))
  const x = Buffer.from(published[0]!.publicJwk.x)
  t.ok(
    contents.some((content) => content.includes(x)),
    'control: the public key is found in the files, so the scan sees stored values',
  )
  for (const key of published) {
    for (const [form, needle] of seedForms(key)) {
      const hit = files.find((_, index) => contents[index]!.includes(needle))
      t.equal(hit, undefined, `${key.kid.slice(0, 8)}: seed as ${form} is in no file`)
    }
  }

  database = await createDatabase(undefined, { dataDir, revocationSync: 'off' })
  t.teardown(() => database.close())
  const again = await Keyring.open({
    ...KEYRING,
    database,
    secrets: resolveKeyEncryptionSecrets({ database }).box,
  })
  again.close()
  t.same(
    again.keySet.keys.map((key) => key.kid).sort(),
    published.map((key) => key.kid).sort(),
    'a restart opens the same keys with the same secret file',
  )
})

t.test('PostgreSQL: a dump of every table holds no seed', async (t) => {
  const server = await startTestPostgres()
  const url = await server.createDatabaseUrl()
  const database = await createDatabase(url, { revocationSync: 'off' })
  t.teardown(() => database.close())
  // A key stored in clear by an older version: sealed in place on start, still signing.
  const legacy = await insertLegacyKey(database, 'active')
  t.throws(() => resolveKeyEncryptionSecrets({ database }), {
    name: 'BreakwaterSetupError',
    message: /^@breakwater\/server: secret is required with PostgreSQL.*randomBytes\(32\)/,
  })
  const keyring = await openKeyring(database, generateSecret())
  const published = keyring.keySet.keys
  t.same(
    published.map((key) => key.kid),
    [legacy.kid],
  )
  t.equal(keyring.legacyKeysSealed, 1, 'reported, so the server can advise a rotation')
  t.equal((await stored(database))[0]?.privateJwk, null)

  const dumps: Array<[string, string]> = [['SQL dump', await sqlDump(t, database)]]
  const pgDump = spawnSync('pg_dump', ['--data-only', '--no-owner', `--dbname=${url}`], {
    encoding: 'utf8',
    timeout: 30_000,
  })
  if (pgDump.status === 0) dumps.push(['pg_dump', pgDump.stdout])
  else t.comment('pg_dump unavailable or older than the server: the SQL dump stands in for it')
  for (const [what, dump] of dumps) {
    t.ok(dump.includes(published[0]!.publicJwk.x), `control: ${what} shows the public key`)
    for (const key of published) {
      for (const [form, needle] of seedForms(key)) {
        if (form === 'raw bytes') continue // a text dump holds no raw bytes
        t.notOk(
          dump.includes(needle.toString()),
          `${what}: no seed of ${key.kid.slice(0, 8)} as ${form}`,
        )
      }
    }
  }
})

t.test('sealed keys across secrets', (t) =>
  forEachDialect<Test>(
    t,
    async (t, database) => {
      const [oldSecret, newSecret] = [generateSecret(), generateSecret()]
      const first = await openKeyring(database, oldSecret)
      const original = kids(await stored(database))

      await t.test(
        'a wrong secret fails start with one clear line and generates nothing',
        async (t) => {
          const error = await openKeyring(database, newSecret).catch((e: unknown) => e)
          t.ok(error instanceof SigningKeyUnreadable)
          const message = (error as Error).message
          t.match(
            message,
            /^@breakwater\/server: signing key \S+ cannot be decrypted with BREAKWATER_SECRET .*breakwater keys rewrap/,
          )
          t.notMatch(message, '\n', 'one line')
          t.notOk(message.includes(oldSecret) || message.includes(newSecret), 'no secret in it')
          t.same(kids(await stored(database)), original, 'no key was generated instead')
        },
      )

      await t.test('rewrap under "new,old", then "new" alone opens every key', async (t) => {
        // A TOTP seed is sealed under the same secret: it moves too.
        const user = await createUser(database.db, {
          email: `${crypto.randomUUID()}@example.com`,
          passwordHash: 'h',
        })
        const seed = Buffer.alloc(20, 3)
        await startTotpEnrolment(database.db, {
          userId: user.id,
          sealed: resolveKeyEncryptionSecrets({ secret: oldSecret, database }).box.seal(
            seed,
            `totp:${user.id}`,
          ),
        })
        const result = await rewrapSigningKeys({ database, secret: `${newSecret},${oldSecret}` })
        t.same(result, {
          total: 2,
          rewrapped: 2,
          sealed: 0,
          current: 0,
          skipped: 0,
          totpSeeds: { total: 1, rewrapped: 1, skipped: 0 },
        })
        const again = await rewrapSigningKeys({ database, secret: [newSecret, oldSecret] })
        t.same(
          again,
          {
            total: 2,
            rewrapped: 0,
            sealed: 0,
            current: 2,
            skipped: 0,
            totpSeeds: { total: 1, rewrapped: 0, skipped: 0 },
          },
          'idempotent',
        )
        const moved = await findTotp(database.db, user.id)
        t.same(
          resolveKeyEncryptionSecrets({ secret: newSecret, database }).box.open(
            moved?.sealed ?? '',
            `totp:${user.id}`,
          ),
          seed,
          'the seed opens with the new secret alone',
        )
        const keyring = await openKeyring(database, newSecret)
        t.same(
          keyring.keySet.keys.map((key) => key.kid).sort(),
          first.keySet.keys.map((key) => key.kid).sort(),
          'the same keys, now opened with the new secret alone',
        )
        await t.rejects(
          openKeyring(database, oldSecret),
          SigningKeyUnreadable,
          'the old one no longer opens them',
        )
        await t.rejects(
          rewrapSigningKeys({ database, secret: oldSecret }),
          SigningKeyUnreadable,
          'a rewrap with a secret that opens nothing changes nothing',
        )
      })

      await t.test('a sealed value swapped onto another kid does not open', async (t) => {
        const [a, b] = await stored(database)
        const swap = (kid: string, sealed: string | null) =>
          database.db
            .updateTable('signing_keys')
            .set({ sealed_private_key: sealed! })
            .where('kid', '=', kid)
            .execute()
        await swap(a!.kid, b!.sealedPrivateKey)
        await swap(b!.kid, a!.sealedPrivateKey)
        const error = await openKeyring(database, newSecret).catch((e: unknown) => e)
        t.ok(error instanceof SigningKeyUnreadable)
        t.match(
          (error as Error).message,
          /does not open \(tampered with, or copied from another key\)/,
        )
        await swap(a!.kid, a!.sealedPrivateKey)
        await swap(b!.kid, b!.sealedPrivateKey)
        t.ok(await openKeyring(database, newSecret), 'restored, they open again')
      })

      await t.test(
        'rotation seals the new key and refuses a secret that cannot open the pending one',
        async (t) => {
          await t.rejects(
            rotateSigningKeys({ ...KEYRING, database, secret: oldSecret }),
            SigningKeyUnreadable,
          )
          const result = await rotateSigningKeys({ ...KEYRING, database, secret: newSecret })
          const rows = await stored(database)
          const published = rows.find((row) => row.kid === result.published)
          t.equal(published?.privateJwk, null)
          const box = createSecretBox(newSecret)
          t.ok(box.isCurrent(published!.sealedPrivateKey!), 'sealed under the first secret')
          const keyring = await openKeyring(database, newSecret)
          t.equal(keyring.signingKey().kid, result.activated)
        },
      )
    },
    { revocationSync: 'off' },
  ),
)

t.test('the secret file: created once, reused, refused when others can read it', async (t) => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'breakwater-secret-'))
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
  const database = { kind: 'pglite', location: dataDir } as const
  const first = resolveKeyEncryptionSecrets({ database })
  const file = path.join(dataDir, 'secret')
  t.match(readFileSync(file, 'utf8'), /^[A-Za-z0-9_-]{43}\n$/, '32 random bytes, base64url')
  t.same(
    resolveKeyEncryptionSecrets({ database }).box.keyIds,
    first.box.keyIds,
    'read back, not remade',
  )
  t.same(
    resolveKeyEncryptionSecrets({ database: { ...database, location: 'x', dataDir } }).box.keyIds,
    first.box.keyIds,
    'dataDir wins over location',
  )
  t.same(readdirSync(dataDir), ['secret'], 'no temporary file left behind')

  chmodSync(file, 0o644)
  t.throws(() => resolveKeyEncryptionSecrets({ database }), {
    name: 'BreakwaterSetupError',
    message:
      /^@breakwater\/server: .*secret can be read or written by other users \(mode 0644\); run chmod 600/,
  })
  chmodSync(file, 0o600)

  const memory = resolveKeyEncryptionSecrets({ database: { kind: 'pglite', location: 'memory' } })
  t.equal(memory.source, 'ephemeral')
  t.not(
    memory.box.keyIds[0],
    resolveKeyEncryptionSecrets({ database: { kind: 'pglite', location: 'memory' } }).box.keyIds[0],
  )
  const given = generateSecret()
  t.equal(
    resolveKeyEncryptionSecrets({ secret: given, database }).source,
    'option',
    'a given secret wins',
  )
  const bad = `${given.slice(0, 20)}`
  const error = (() => {
    try {
      resolveKeyEncryptionSecrets({ secret: [given, bad], database })
    } catch (e) {
      return e as Error
    }
  })()
  t.match(error?.message, /^@breakwater\/server: secret \(entry 2\) must decode to at least 32/)
  t.notOk(error?.message.includes(bad), 'the bad value is not echoed')
  const missing = path.join(dataDir, 'not-yet')
  t.equal(
    resolveKeyEncryptionSecrets({ database: { kind: 'pglite', location: missing } }).source,
    'file',
  )
  t.equal(statSync(missing).mode & 0o777, 0o700, 'a missing data directory is made 0700')

  // A PGlite the caller built: its directory holds database files, or it is no directory.
  const ownPglite = path.join(dataDir, 'own')
  mkdirSync(ownPglite)
  writeFileSync(path.join(ownPglite, 'PG_VERSION'), '17\n')
  for (const database of [
    { kind: 'pglite', location: ownPglite },
    { kind: 'pglite', location: 'idb://breakwater' },
    { kind: 'pglite', location: dataDir, dataDir: undefined },
  ] as const) {
    t.throws(() => resolveKeyEncryptionSecrets({ database }), {
      name: 'BreakwaterSetupError',
      message: /^@breakwater\/server: secret is required with your own PGlite instance/,
    })
  }
})
