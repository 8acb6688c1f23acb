import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import t from 'tap'
import { memoryTokenStore } from '../src/index.js'
import { fileTokenStore } from '../src/node.js'

const tokens = {
  accessToken: 'a.b.c',
  refreshToken: 'r1',
  accessTokenExpiresAt: '2030-01-01T00:00:00.000Z',
  refreshTokenExpiresAt: '2030-01-08T00:00:00.000Z',
}

t.test('file store: 0600 file in a 0700 directory, atomic replace, clear', async (t) => {
  const root = await mkdtemp(path.join(tmpdir(), 'bw-store-'))
  t.teardown(() => rm(root, { recursive: true, force: true }))
  const file = path.join(root, 'nested', 'credentials.json')
  const store = fileTokenStore(file)
  t.equal(await store.get(), null, 'no file: no tokens')
  await store.set(tokens)
  t.equal((await stat(file)).mode & 0o777, 0o600)
  t.equal((await stat(path.dirname(file))).mode & 0o777, 0o700)
  t.same(await store.get(), tokens)
  await store.set({ ...tokens, refreshToken: 'r2' })
  t.equal((await store.get())?.refreshToken, 'r2', 'rotation written')
  t.same(await readdir(path.dirname(file)), ['credentials.json'], 'no temporary file left behind')
  t.equal((await stat(file)).mode & 0o777, 0o600, 'still 0600 after a rewrite')
  t.same(
    JSON.parse(await readFile(file, 'utf8')),
    { ...tokens, refreshToken: 'r2' },
    'the file holds the tokens as plain JSON',
  )
  await writeFile(file, 'not json')
  t.equal(await store.get(), null, 'an unreadable file counts as signed out')
  await store.clear()
  await store.clear()
  t.equal(await store.get(), null)
})

t.test('memory store', async (t) => {
  const store = memoryTokenStore()
  t.equal(store.get(), null)
  store.set(tokens)
  t.same(store.get(), tokens)
  store.clear()
  t.equal(store.get(), null)
})
