import { randomBytes } from 'node:crypto'
import { readFileSync, rmSync } from 'node:fs'
import { cp, mkdir, mkdtemp, readFile, rename, unlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { PGlite } from '@electric-sql/pglite'
import { loadPGlite } from '../pglite-engine.js'

// PGlite runs initdb inside WebAssembly for every new instance: 2–3 s of CPU each on a
// two-core machine, which a suite opening hundreds of databases pays hundreds of times.
// Loading the data directory of a freshly initialised cluster instead takes about 0.5 s
// and gives the same empty cluster (it is how PGlite's own `clone()` works). The image is
// made once per machine and PGlite version, kept in the temporary directory, and read by
// every later test process; migrations still run on each database as they would.

/**
 * `make`'s promise, made on the first call and kept; a failure is forgotten, so the next
 * call tries again.
 */
function once<T>(make: () => Promise<T>): { get(): Promise<T>; forget(): void } {
  let made: Promise<T> | undefined
  return {
    get: () =>
      (made ??= make().catch((error: unknown) => {
        made = undefined
        throw error
      })),
    forget: () => {
      made = undefined
    },
  }
}

const image = once(async () => loadImage((await loadPGlite()).PGlite))
const template = once(writeTemplate)

/**
 * A new in-memory PGlite holding a freshly initialised, empty cluster, started from a
 * cached image of one rather than by running initdb again. Close it when done (or pass it
 * as `createDatabase`'s `pglite` option, whose `close()` closes it).
 */
export async function newTestPGlite(): Promise<PGlite> {
  const { PGlite } = await loadPGlite()
  const pglite = new PGlite({ loadDataDir: await image.get() })
  try {
    await pglite.waitReady
    return pglite
  } catch (error) {
    // A damaged image: forget it, so the next database makes a new one.
    image.forget()
    await unlink(imagePath()).catch(() => {})
    throw error
  }
}

/**
 * Writes a freshly initialised, empty PGlite cluster where `createDatabase({ dataDir })`
 * looks for one (`<dataDir>/pglite`), so that a server started on `dataDir` skips initdb
 * (about 4 s of CPU for a first start) and still runs its migrations. `dataDir` must
 * not hold a cluster yet. The cluster comes from the same image as
 * {@link newTestPGlite}, written once per process to a private directory and copied.
 */
export async function seedPGliteDataDir(dataDir: string): Promise<void> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 })
  await cp(await template.get(), path.join(dataDir, 'pglite'), {
    recursive: true,
    errorOnExist: true,
    force: false,
  })
}

async function writeTemplate(): Promise<string> {
  const { PGlite } = await loadPGlite()
  const dir = await mkdtemp(path.join(tmpdir(), 'breakwater-pglite-template-'))
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }))
  const pglite = new PGlite(path.join(dir, 'pglite'), { loadDataDir: await image.get() })
  await pglite.waitReady
  await pglite.close()
  return path.join(dir, 'pglite')
}

async function loadImage(PGliteClass: typeof PGlite): Promise<Blob> {
  const file = imagePath()
  try {
    return new Blob([await readFile(file)])
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'ENOENT') throw error
  }
  const fresh = await PGliteClass.create()
  const dump = await fresh.dumpDataDir('none')
  await fresh.close()
  // Written aside and renamed, so a process reading the image never sees half of one.
  const partial = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`
  await writeFile(partial, new Uint8Array(await dump.arrayBuffer()), { mode: 0o600 })
  await rename(partial, file)
  return dump
}

function imagePath(): string {
  const entry = fileURLToPath(import.meta.resolve('@electric-sql/pglite'))
  const manifest = JSON.parse(
    readFileSync(path.join(path.dirname(entry), '..', 'package.json'), 'utf8'),
  ) as { version: string }
  const user = process.getuid?.() ?? 'user'
  return path.join(tmpdir(), `breakwater-pglite-${manifest.version}-${user}.tar`)
}
