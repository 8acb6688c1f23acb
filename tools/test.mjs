#!/usr/bin/env node
// `pnpm test`: every package's suite through turbo, then one closing line that adds up
// the packages' counts.
//
// Everything is built first. Then two lanes, each one suite at a time. One lane holds
// the suites that mostly wait: the cluster (its instances' key reloads, then a soak whose
// load is its own), then the browser suite and the CLI, one test file at a time. The
// other holds the suites that keep both cores busy. A suite a lane does not name runs at
// the end of the second. Suites run with `--only`: their ^build dependencies are not run
// again, since turbo rewrites dist/ even on a cache hit and the other lane may be
// reading it.
//
// With a filter of your own (`pnpm test --filter=…`), one turbo run, one task at a time.
import { spawn } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const turbo = path.join(root, 'node_modules/.bin/turbo')
const args = process.argv.slice(2)

// Seconds alone on a quiet machine in the comments.
const LANES = [
  // cluster 250, web 220, cli-app 70, example 10
  [
    '@breakwater/cluster',
    '@breakwater/web',
    '@breakwater/cli-app',
    '@breakwater/example-existing-app',
  ],
  // server 240, db 130, pack-test 100, client 90, server-app 80, tokens 17, react 16
  [
    '@breakwater/server',
    '@breakwater/db',
    '@breakwater/pack-test',
    '@breakwater/client',
    '@breakwater/server-app',
    '@breakwater/tokens',
    '@breakwater/react',
    '@breakwater/protocol',
  ],
]

/** Every workspace package with a `test` script (pnpm-workspace.yaml's `<group>/*` globs). */
function suites() {
  const workspace = readFileSync(path.join(root, 'pnpm-workspace.yaml'), 'utf8')
  const groups = [...workspace.matchAll(/^\s*-\s*['"]?([\w.-]+)\/\*['"]?\s*$/gm)].map((m) => m[1])
  const names = []
  for (const group of groups) {
    const dir = path.join(root, group)
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue
      const manifest = path.join(dir, entry.name, 'package.json')
      if (!existsSync(manifest)) continue
      const { name, scripts } = JSON.parse(readFileSync(manifest, 'utf8'))
      if (scripts?.test) names.push(name)
    }
  }
  return names
}

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

/**
 * tap compiles its plugin set into its own install the first time it runs with a set
 * other than the one built there (every .taprc here swaps ts-node for tsx). Two suites
 * starting together on a fresh install would both write it, so it is built here, once,
 * before any suite starts.
 */
async function buildTapPlugins() {
  const tapRequire = createRequire(createRequire(path.join(root, 'package.json')).resolve('tap'))
  let built = ''
  try {
    const entry = tapRequire.resolve('@tapjs/test')
    const index = path.join(
      entry.slice(0, entry.lastIndexOf(`${path.sep}dist${path.sep}`)),
      'test-built/dist/esm/index.js',
    )
    built = readFileSync(index, 'utf8')
  } catch {
    // Not where this tap version keeps it: build to be sure.
  }
  if (built !== '' && !built.includes('"@tapjs/typescript"')) return 0
  const tap = path.join(root, 'node_modules/.bin/tap')
  const child = spawn(tap, ['build'], {
    cwd: path.join(root, 'packages/protocol'),
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  return new Promise((resolve) => child.on('exit', (code) => resolve(code ?? 1)))
}

/** One `turbo run <task>`; resolves with its exit code. Output goes out whole lines at a time. */
function runTurbo(task, extra) {
  const child = spawn(turbo, ['run', task, '--concurrency=1', ...extra, ...args], {
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
  const tapBuilt = await buildTapPlugins()
  if (tapBuilt !== 0) return tapBuilt
  if (args.some((arg) => /^(-F|--filter|--affected)(=|$)/.test(arg))) return runTurbo('test', [])
  const built = await runTurbo('build', ['--output-logs=errors-only'])
  if (built !== 0) return built
  // As turbo itself does: after a failure, no further suite starts unless --continue.
  const keepGoing = args.some((arg) => /^--continue(=(?!never$)|$)/.test(arg))
  let failed = 0
  const runLane = async (lane) => {
    for (const name of lane) {
      if (failed !== 0 && !keepGoing) return
      const started = performance.now()
      const code = await runTurbo('test', ['--only', `--filter=${name}`])
      took.set(name, Math.round((performance.now() - started) / 1000))
      if (code !== 0) failed ||= code
    }
  }
  const named = new Set(LANES.flat())
  const lanes = [LANES[0], [...LANES[1], ...suites().filter((name) => !named.has(name))]]
  await Promise.all(lanes.map(runLane))
  return failed
}

/** Wall seconds per suite, for the closing lines. */
const took = new Map()

const code = await main()
let pass = 0
let fail = 0
for (const counts of totals.values()) {
  pass += counts.pass
  fail += counts.fail
}
if (code !== 0 && fail === 0) fail = 1
const timings = [...took].map(
  ([name, seconds]) => `${name.replace('@breakwater/', '')} ${seconds} s`,
)
if (timings.length > 0) process.stdout.write(`\nsuites: ${timings.join(', ')}\n`)
process.stdout.write(`\n${totals.size} packages tested\n${pass} passed, ${fail} failed\n`)
process.exit(code)
