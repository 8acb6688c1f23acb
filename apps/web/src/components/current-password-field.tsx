import { forwardRef } from 'react'

interface CurrentPasswordFieldProps {
  testId: string
  value: string
  onChange(value: string): void
}

/**
 * The password asked again before a change to the account (its password, its address,
 * its deletion): `current-password` autofill, so a password manager fills it in.
 */
export const CurrentPasswordField = forwardRef<HTMLInputElement, CurrentPasswordFieldProps>(
  function CurrentPasswordField({ testId, value, onChange }, ref) {
    return (
      <label>
        Current password
        <input
          ref={ref}
          type="password"
          name="current-password"
          autoComplete="current-password"
          required
          data-testid={testId}
          value={value}
          onChange={(event) => onChange(event.target.value)}
        />
      </label>
    )
  },
)
