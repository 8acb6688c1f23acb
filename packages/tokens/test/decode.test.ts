import { readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { decodeAccessTokenExpiry } from '../src/browser.js'
import { setup } from './helpers.js'

t.test('decodes the expiry of a real token without verifying it', async (t) => {
  const { signer } = await setup()
  const signed = await signer.sign({ sub: 'u', sid: 's' })
  t.equal(decodeAccessTokenExpiry(signed.token)?.getTime(), signed.expiresAt.getTime())
})

t.test('returns null for anything that is not a JWT with a numeric exp', async (t) => {
  const seg = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')
  for (const bad of [
    '',
    'a.b',
    'a.b.c.d',
    `x.${seg({ exp: 'soon' })}.y`,
    `x.${seg([1])}.y`,
    'x.%%%.y',
    `x.${'A'.repeat(9000)}.y`,
  ]) {
    t.equal(decodeAccessTokenExpiry(bad), null, bad.slice(0, 20))
  }
  t.equal(decodeAccessTokenExpiry(`x.${seg({ exp: 10 })}.y`)?.getTime(), 10_000)
})

t.test('the browser entry imports nothing from node:', async (t) => {
  const src = resolve(dirname(fileURLToPath(import.meta.url)), '../src')
  const seen = new Set<string>()
  const visit = (file: string) => {
    if (seen.has(file)) return
    seen.add(file)
    const text = readFileSync(file, 'utf8')
    t.notMatch(text, /from 'node:|require\(/, `${file} stays browser-safe`)
    for (const [, spec] of text.matchAll(/from '(\.[^']+)\.js'/g))
      visit(join(dirname(file), `${spec}.ts`))
  }
  visit(join(src, 'browser.ts'))
  t.ok(seen.size >= 4, `${seen.size} modules checked`)
})
