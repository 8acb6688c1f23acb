import type { Tokens } from '../wire.js'
import type { TokenStore } from './types.js'

/**
 * A {@link TokenStore} in memory: tokens last as long as the process or page.
 * The default of the bearer transport.
 *
 * @example
 * ```ts
 * const client = createBreakwaterClient<AppRouter>({ url, transport: 'bearer', store: memoryTokenStore() })
 * ```
 */
export function memoryTokenStore(initial: Tokens | null = null): TokenStore {
  let tokens = initial
  return {
    get: () => tokens,
    set: (next) => {
      tokens = next
    },
    clear: () => {
      tokens = null
    },
  }
}
