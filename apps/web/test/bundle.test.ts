// The web app's size (issue: ≤ 80 kB of JS gzipped on a first visit). What a first visit
// loads is what the built index.html names: its module script and the chunks it preloads.
// The chunks loaded on demand (the signed-in page, the security card, passkeys) are
// reported beside it.
import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { gzipSync } from 'node:zlib'
import t from 'tap'
import { builtWeb } from './support.js'

const FIRST_VISIT_LIMIT = 80_000

const gzipped = (bytes: Buffer) => gzipSync(bytes, { level: 9 }).length

t.test('a first visit loads at most 80 kB of JS gzipped', async (t) => {
  const dir = await builtWeb()
  const html = await readFile(path.join(dir, 'index.html'), 'utf8')
  const named = [
    ...html.matchAll(/<script[^>]+type="module"[^>]+src="\/([^"]+\.js)"/g),
    ...html.matchAll(/<link[^>]+rel="modulepreload"[^>]+href="\/([^"]+\.js)"/g),
  ].map((match) => match[1]!)
  t.ok(named.length >= 1, `index.html names its scripts (${named.join(', ')})`)

  const assets = path.join(dir, 'assets')
  const sizes = new Map<string, number>()
  for (const file of await readdir(assets)) {
    if (file.endsWith('.js'))
      sizes.set(`assets/${file}`, gzipped(await readFile(path.join(assets, file))))
  }
  const firstVisit = named.reduce((sum, file) => sum + (sizes.get(file) ?? Number.NaN), 0)
  const total = [...sizes.values()].reduce((sum, size) => sum + size, 0)
  t.comment(
    `JS gzipped: first visit ${firstVisit} B (${named.length} files), all ${total} B (${sizes.size} files): ${[
      ...sizes,
    ]
      .map(([file, size]) => `${path.basename(file)} ${size}`)
      .join(', ')}`,
  )
  t.ok(firstVisit <= FIRST_VISIT_LIMIT, `first visit ${firstVisit} B ≤ ${FIRST_VISIT_LIMIT} B`)
  t.ok(total > firstVisit, 'the account pages load on demand, not on a first visit')
})
