#!/usr/bin/env node
// `pnpm breakwater <command>`: the terminal client (apps/cli), `keys rotate|rewrap`
// for operators (apps/server, with its configuration) and `migrate [--dry-run]` (the
// `breakwater` bin of @breakwater/server). Builds what it runs the first time.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const args = process.argv.slice(2)
const [entry, pkg, rest] =
  args[0] === 'keys'
    ? [path.join(root, 'apps/server/dist/keys.js'), '@breakwater/server-app', args.slice(1)]
    : args[0] === 'migrate'
      ? [path.join(root, 'packages/server/dist/bin.js'), '@breakwater/server', args]
      : [path.join(root, 'apps/cli/dist/main.js'), '@breakwater/cli-app', args]

if (!existsSync(entry)) {
  const turbo = path.join(root, 'node_modules/.bin/turbo')
  const built = spawnSync(
    turbo,
    ['run', 'build', `--filter=${pkg}...`, '--output-logs=errors-only'],
    {
      cwd: root,
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  )
  if (built.status !== 0) process.exit(built.status ?? 1)
}
const run = spawnSync(process.execPath, [entry, ...rest], { stdio: 'inherit' })
process.exit(run.status ?? 1)
