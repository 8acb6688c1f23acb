import type { User } from '@breakwater/db'
import { z } from 'zod'
import { BreakwaterSetupError } from '../setup-error.js'
import type { protectedProcedure, publicProcedure } from '../trpc.js'
import { registration } from './inputs.js'
import { type UserView, userView } from './views.js'

/** A team's extra user fields: a zod object, its keys beside Breakwater's own. */
export type UserFieldsSchema = z.ZodObject<z.ZodRawShape>

/** What `auth.register` hands the session layer. */
export interface Registration {
  readonly email: string
  readonly password: string
  readonly displayName?: string | undefined
  readonly fields: Readonly<Record<string, unknown>>
}

/** How the procedures read registrations and show users, with or without a team's fields. */
export interface UserModel {
  readonly registration: typeof registration
  split(input: z.output<typeof registration>): Registration
  view(user: User): UserView
}

// Keys of the registration input and of the user view: a field may not shadow one.
const RESERVED = new Set([
  'id',
  'email',
  'password',
  'transport',
  'displayName',
  'createdAt',
  'emailVerified',
])

/**
 * The user model of a router. With `fields`, registration accepts them at the
 * top level (and refuses any other unknown key, so a typo is an error, not a
 * silently dropped value), and the user view returns the stored ones.
 */
export function userModel(fields?: UserFieldsSchema): UserModel {
  if (fields === undefined) {
    return {
      registration,
      split: ({ email, password, displayName }) => ({ email, password, displayName, fields: {} }),
      view: userView,
    }
  }
  if (!(fields instanceof z.ZodObject)) {
    throw new BreakwaterSetupError(
      'OPTION_INVALID',
      'userFields must be a zod object (z.object({…}))',
    )
  }
  const keys = Object.keys(fields.shape)
  const clash = keys.filter((key) => RESERVED.has(key))
  if (clash.length > 0) {
    throw new BreakwaterSetupError(
      'OPTION_INVALID',
      `userFields may not redefine ${clash.join(', ')} (Breakwater's own user keys)`,
    )
  }
  const own = new Set(Object.keys(registration.shape))
  return {
    registration: registration.extend(fields.shape).strict() as unknown as typeof registration,
    split(input) {
      const extra: Record<string, unknown> = {}
      for (const [key, value] of Object.entries(input)) if (!own.has(key)) extra[key] = value
      return {
        email: input.email,
        password: input.password,
        displayName: input.displayName,
        fields: extra,
      }
    },
    view(user) {
      const stored = user.fields
      const shown: Record<string, unknown> = {}
      for (const key of keys) if (key in stored) shown[key] = stored[key]
      return { ...userView(user), ...shown }
    },
  }
}

/** The procedure builders and user model the routers are written against. */
export interface Builders {
  readonly publicProcedure: typeof publicProcedure
  readonly protectedProcedure: typeof protectedProcedure
  readonly users: UserModel
}
