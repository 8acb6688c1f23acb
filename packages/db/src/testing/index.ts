/**
 * Test helpers for `@breakwater/db` and the packages built on it: real databases, no
 * mocks. `import { forEachDialect, startTestPostgres } from '@breakwater/db/testing'`.
 *
 * @module
 */
export {
  DIALECTS,
  type DialectName,
  type DialectTest,
  forEachDialect,
  openTestDatabase,
} from './dialects.js'
export { newTestPGlite, seedPGliteDataDir } from './pglite-image.js'
export { freePort, startTestPostgres, type TestPostgres } from './postgres.js'
