import { forwardRef } from 'react'

interface EmailFieldProps {
  testId: string
  value: string
  onChange(value: string): void
}

/**
 * The address an account signs in with, on every page that asks for it (sign-in, a
 * sign-in code, a forgotten password): `username` autofill, so a password manager
 * offers the saved account on each of them.
 */
export const EmailField = forwardRef<HTMLInputElement, EmailFieldProps>(function EmailField(
  { testId, value, onChange },
  ref,
) {
  return (
    <label>
      Email
      <input
        ref={ref}
        type="email"
        name="email"
        autoComplete="username"
        required
        data-testid={testId}
        value={value}
        onChange={(event) => onChange(event.target.value)}
      />
    </label>
  )
})
