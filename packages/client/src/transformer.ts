import type { TRPCCombinedDataTransformer, TRPCDataTransformer } from '@trpc/server'

/**
 * A tRPC data transformer, in either shape `httpBatchLink({ transformer })`
 * accepts: one for both directions (`superjson`), or `{ input, output }`.
 * It must be the one the server's tRPC instance was created with.
 */
export type TransformerOption = TRPCDataTransformer | TRPCCombinedDataTransformer

/** The two halves the client uses: inputs out, results and errors in. */
export interface WireTransformer {
  serialize(input: unknown): unknown
  deserialize(output: unknown): unknown
}

/** No transformer: plain JSON (SPEC §3). */
export const plainJson: WireTransformer = Object.freeze({
  serialize: (input: unknown) => input,
  deserialize: (output: unknown) => output,
})

const isFunction = (value: unknown): boolean => typeof value === 'function'

/**
 * Checks the `transformer` option once and keeps the halves the client calls,
 * the way `getTransformer` in @trpc/client reads its links' option: a combined
 * one has `input` and `output`, anything else serves both directions.
 */
export function resolveTransformer(option: unknown): WireTransformer {
  if (option === undefined) return plainJson
  // superjson's default export is a class with static methods: a function, not an object.
  const holder = (typeof option === 'object' || typeof option === 'function') && option !== null
  const combined = (holder && 'input' in option ? option : undefined) as
    | Partial<TRPCCombinedDataTransformer>
    | undefined
  const input = (combined ? combined.input : option) as Partial<TRPCDataTransformer> | undefined
  const output = (combined ? combined.output : option) as Partial<TRPCDataTransformer> | undefined
  if (!isFunction(input?.serialize) || !isFunction(output?.deserialize)) {
    throw new TypeError(
      '@breakwater/client: transformer must be a tRPC data transformer, { serialize, deserialize } (such as superjson) or { input, output }',
    )
  }
  return {
    serialize: (value) => input!.serialize!(value),
    deserialize: (value) => output!.deserialize!(value),
  }
}
