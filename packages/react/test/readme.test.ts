// The README's example compiles as a user's app would compile it: TSX, `lib:
// ["DOM"]`, `--strict`, with @trpc/tanstack-react-query and TanStack Query.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'

const ROOT = fileURLToPath(new URL('..', import.meta.url))

t.test('the README example compiles under --strict with lib DOM', async (t) => {
  const readme = await readFile(path.join(ROOT, 'README.md'), 'utf8')
  const blocks = [...readme.matchAll(/```tsx\n([\s\S]*?)```/g)].map((m) => m[1]!)
  t.equal(blocks.length, 1, 'one example')
  const ts = (await import('typescript')).default
  const dir = await mkdtemp(path.join(ROOT, 'test', '.readme-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const file = path.join(dir, 'main.tsx')
  await writeFile(file, blocks[0]!)
  const program = ts.createProgram([file], {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2022,
    lib: ['lib.dom.d.ts', 'lib.es2022.d.ts'],
    types: [],
    jsx: ts.JsxEmit.ReactJSX,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    // This package's source, not its build: tests run before the package is built.
    baseUrl: ROOT,
    paths: { '@breakwater/react': ['src/index.ts'] },
  })
  const diagnostics = ts
    .getPreEmitDiagnostics(program)
    .map(
      (d) =>
        `${d.file ? path.basename(d.file.fileName) : ''}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`,
    )
  t.same(diagnostics, [], 'no diagnostics')
})
