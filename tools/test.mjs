#!/usr/bin/env node
// `pnpm test`: every package's suite through turbo, one at a time (the suites
// start PostgreSQL, servers and a browser; two cores do not run them in
// parallel well), then one closing line that adds up the packages' counts.
import { spawn } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const turbo = path.join(root, 'node_modules/.bin/turbo')
const child = spawn(turbo, ['run', 'test', '--concurrency=1', ...process.argv.slice(2)], {
  cwd: root,
  stdio: ['ignore', 'pipe', 'inherit'],
})

const totals = new Map()
let pending = ''
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk)
  pending += chunk
  const lines = pending.split('\n')
  pending = lines.pop() ?? ''
  for (const line of lines) {
    // tap's closing line per package: "# { total: 12, pass: 11, fail: 1 }"
    const match = /^(\S+):test: # \{ total: (\d+), pass: (\d+)(?:, fail: (\d+))?/.exec(line.trim())
    if (match) totals.set(match[1], { pass: Number(match[3]), fail: Number(match[4] ?? 0) })
    // node:test's closing lines (the examples, which run outside tap too): "# pass 9", "# fail 0"
    const nodeTest = /^(\S+):test: # (pass|fail) (\d+)$/.exec(line.trim())
    if (nodeTest) {
      const counts = totals.get(nodeTest[1]) ?? { pass: 0, fail: 0 }
      counts[nodeTest[2]] = Number(nodeTest[3])
      totals.set(nodeTest[1], counts)
    }
  }
})
child.on('exit', (code) => {
  let pass = 0
  let fail = 0
  for (const counts of totals.values()) {
    pass += counts.pass
    fail += counts.fail
  }
  if (code !== 0 && fail === 0) fail = 1
  process.stdout.write(`\n${totals.size} packages tested\n${pass} passed, ${fail} failed\n`)
  process.exit(code ?? 1)
})
