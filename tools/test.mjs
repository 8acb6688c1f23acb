#!/usr/bin/env node
// `pnpm test`: every package's suite through turbo, then one closing line that adds up
// the packages' counts.
//
// The suites start PostgreSQL, servers and a browser, and two cores do not run two of them
// side by side well, so they run one at a time, with one exception: the suites in
// SIDE_LANE (short: ≈ 20 s of tap time together on CI) run beside the cluster suite, whose
// first file (key-rotation) mostly waits, ≈ 50 s, for the instances' 30 s key reload and
// the last old-key token to expire, and asserts no timings. The side lane tests its own
// sources and has no ^build dependency, so its turbo run restores no build output (turbo
// rewrites dist/ even on a cache hit) while the cluster suite reads it. Then everything
// else, one at a time.
//
// With a filter of your own (`pnpm test --filter=…`), one turbo run, one task at a time.
import { spawn } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const turbo = path.join(root, 'node_modules/.bin/turbo')
const args = process.argv.slice(2)

const LONG = '@breakwater/cluster'
// Short, and without ^build dependencies (see above): keep it so.
const SIDE_LANE = ['@breakwater/protocol', '@breakwater/tokens']

const totals = new Map()

/** Closing counts from one line of turbo's output, when it is one. */
function count(line) {
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

/** One `turbo run test`; resolves with its exit code. Output goes out whole lines at a time. */
function runTurbo(extra) {
  const child = spawn(turbo, ['run', 'test', '--concurrency=1', ...extra, ...args], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  let pending = ''
  child.stdout.on('data', (chunk) => {
    pending += chunk
    const lines = pending.split('\n')
    pending = lines.pop() ?? ''
    if (lines.length > 0) process.stdout.write(`${lines.join('\n')}\n`)
    for (const line of lines) count(line)
  })
  return new Promise((resolve) => {
    child.on('exit', (code) => {
      if (pending) {
        process.stdout.write(`${pending}\n`)
        count(pending)
      }
      resolve(code ?? 1)
    })
  })
}

async function main() {
  if (args.some((arg) => /^(-F|--filter|--affected)(=|$)/.test(arg))) return runTurbo([])
  const alone = [LONG, ...SIDE_LANE].map((name) => `--filter=!${name}`)
  const [long, side] = await Promise.all([
    runTurbo([`--filter=${LONG}`]),
    runTurbo(SIDE_LANE.map((name) => `--filter=${name}`)),
  ])
  // As turbo itself does: after a failure, no further task starts unless --continue.
  const keepGoing = args.some((arg) => /^--continue(=(?!never$)|$)/.test(arg))
  if ((long !== 0 || side !== 0) && !keepGoing) return long || side
  const rest = await runTurbo(alone)
  return long || side || rest
}

const code = await main()
let pass = 0
let fail = 0
for (const counts of totals.values()) {
  pass += counts.pass
  fail += counts.fail
}
if (code !== 0 && fail === 0) fail = 1
process.stdout.write(`\n${totals.size} packages tested\n${pass} passed, ${fail} failed\n`)
process.exit(code)
