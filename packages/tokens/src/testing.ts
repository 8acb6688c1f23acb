// Test support for packages that verify Breakwater tokens: not for production code.
export type { AttackCase, AttackCorpusOptions } from './testing/attack-corpus.js'
export { buildAttackCorpus, forgeJws, respellBase64url } from './testing/attack-corpus.js'
