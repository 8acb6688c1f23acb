import { fileURLToPath } from 'node:url'
import { defineConfig, type Plugin } from 'vite'

/** Any absolute URL that is not this machine's loopback: the page must load nothing from elsewhere. */
const FOREIGN_URL = /\bhttps?:\/\/(?!127\.0\.0\.1[:/]|localhost[:/])[^\s"'`)]+/g

/**
 * The XML namespace names React DOM creates and compares elements with (XHTML,
 * SVG, MathML, XLink, XML), as string literals. Names, not addresses: nothing
 * ever fetches them, but they must keep their exact value.
 */
const NAMESPACE_NAME =
  /(["'`])http:\/\/(www\.w3\.org\/(?:2000\/svg|1998\/Math\/MathML|1999\/xlink|1999\/xhtml|XML\/1998\/namespace))\1/g

/**
 * Keeps the bundle free of network addresses: tRPC's "submit an issue at
 * <github URL>" message, @simplewebauthn/browser's link to its docs (in a
 * misuse warning) and React's error decoder (in its production error messages)
 * are reworded, and React DOM's namespace names are spelled with escaped
 * slashes (the same strings at run time); then any URL still left fails the build.
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
        .replace(/https:\/\/(reactjs\.org\/docs\/error-decoder\.html)/g, '$1')
      return next === code ? null : { code: next, map: null }
    },
    generateBundle(_options, bundle) {
      for (const file of Object.values(bundle)) {
        // After minifying, which would print the escapes back as plain slashes.
        if (file.type === 'chunk')
          file.code = file.code.replace(NAMESPACE_NAME, '$1http:\\/\\/$2$1')
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
  // One React: @breakwater/react (a workspace package) would otherwise resolve its own dev copy.
  resolve: { dedupe: ['react', 'react-dom'] },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    rolldownOptions: {
      // TanStack Query marks its hooks "use client" for React Server Components; this app has none.
      onLog(level, log, handler) {
        if (log.code !== 'MODULE_LEVEL_DIRECTIVE') handler(level, log)
      },
    },
  },
  // `vite` (dev): the API from a local `pnpm start`. Not the string shorthand: it sets
  // changeOrigin, which rewrites Host so the browser's Origin no longer matches it and
  // every sign-in is refused as cross-origin (docs/cross-origin.md).
  server: {
    host: '127.0.0.1',
    proxy: { '/trpc': { target: 'http://127.0.0.1:3000', changeOrigin: false } },
  },
})
