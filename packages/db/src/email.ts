/** Longest canonical email form stored (`users.email_canonical`), in UTF-16 code units. */
export const EMAIL_CANONICAL_MAX = 1024

// Enough for every input seen in practice to reach its fixed point (NFKC and lower-casing
// settle after one round, the i + dot rule after a second); the cap only bounds the loop.
const MAX_ROUNDS = 4

/**
 * The one canonical form of an email address (SPEC §6): what decides uniqueness, look-up
 * and rate-limit keys, so that spellings a person reads as the same address are one
 * account and one bucket. The address as typed is kept separately, for display.
 *
 * The rule, applied until nothing changes (so `canonicalEmail(canonicalEmail(x))` is
 * `canonicalEmail(x)`):
 * 1. Unicode NFKC: fullwidth `ＡＤＡ＠ｅｘａｍｐｌｅ．ｃｏｍ`, ligatures (`ﬁ`), styled
 *    letters (`ℌ`) become their plain forms;
 * 2. trim white space (after NFKC, which turns exotic spaces into plain ones);
 * 3. `toLowerCase()` (locale-independent, the same on every server);
 * 4. `i` + U+0307 COMBINING DOT ABOVE → `i`: lower-casing `İ` (U+0130) yields `i̇`, which
 *    NFKC cannot recompose, so without this rule `İ` and `I` would be two buckets,
 *    five more guesses per such letter. PostgreSQL's `lower('İ')` gives `i` too;
 * 5. `ς` (final sigma) → `σ`: `toLowerCase()` picks one or the other from the letter's
 *    position, so `ΑΣ` and `ασ` would otherwise differ.
 *
 * Not folded, because people read them as different letters: dotless `ı`, `ß` vs `ss`.
 * Changing this rule changes stored values: it needs a migration that recomputes
 * `users.email_canonical`.
 *
 * @example
 * ```ts
 * canonicalEmail(' ＡＤＡ＠Example.com ') // 'ada@example.com'
 * canonicalEmail('İNCİ@example.com')     // 'inci@example.com'
 * const key = `auth:account:${canonicalEmail(input.email)}`
 * ```
 */
export function canonicalEmail(email: string): string {
  let current = email
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const next = current
      .normalize('NFKC')
      .trim()
      .toLowerCase()
      .replaceAll('i\u0307', 'i')
      .replaceAll('ς', 'σ')
    if (next === current) break
    current = next
  }
  return current
}
