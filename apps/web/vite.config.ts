import { fileURLToPath } from 'node:url'
import { defineConfig, type Plugin } from 'vite'

/** Any absolute URL that is not this machine's loopback: the page must load nothing from elsewhere. */
const FOREIGN_URL = /\bhttps?:\/\/(?!127\.0\.0\.1[:/]|localhost[:/])[^\s"'`)]+/g

/**
 * Keeps the bundle free of network addresses: tRPC's "submit an issue at
 * <github URL>" message and @simplewebauthn/browser's link to its docs (in a
 * misuse warning) are reworded, then any URL still left fails the build.
 */
function noForeignUrls(): Plugin {
  return {
    name: 'breakwater:no-foreign-urls',
    apply: 'build',
    renderChunk(code) {
      const next = code
        .replace(
          /Please submit an issue at https:\/\/github\.com\/trpc\/trpc\/issues\/new/g,
          'Please report it to the tRPC project',
        )
        .replace(
          /https:\/\/simplewebauthn\.dev\/docs\/packages\/browser#[\w-]+/g,
          "@simplewebauthn/browser's documentation",
        )
      return next === code ? null : { code: next, map: null }
    },
    generateBundle(_options, bundle) {
      for (const file of Object.values(bundle)) {
        const text =
          file.type === 'chunk'
            ? file.code
            : typeof file.source === 'string'
              ? file.source
              : new TextDecoder().decode(file.source)
        const found = text.match(FOREIGN_URL)
        if (found) this.error(`${file.fileName} refers to ${found.join(', ')}`)
      }
    },
  }
}

// Static files for apps/server to serve at `/` (it looks in apps/web/dist).
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  plugins: [noForeignUrls()],
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', sourcemap: false },
  // `vite` (dev): the API from a local `pnpm start`. Not the string shorthand: it sets
  // changeOrigin, which rewrites Host so the browser's Origin no longer matches it and
  // every sign-in is refused as cross-origin (docs/cross-origin.md).
  server: {
    host: '127.0.0.1',
    proxy: { '/trpc': { target: 'http://127.0.0.1:3000', changeOrigin: false } },
  },
})
