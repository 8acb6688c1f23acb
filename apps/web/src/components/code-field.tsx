import { forwardRef } from 'react'

interface CodeFieldProps {
  label: string
  /** Kept in the form but not shown (the step that asks for it has not come yet). */
  hidden?: boolean
  name: string
  testId: string
  value: string
  onChange(value: string): void
  required?: boolean
}

/**
 * A labelled one-time code's field, from an authenticator app or an email: a digit keyboard on
 * phones and the browser's one-time-code autofill. Text, not a number: codes keep their
 * leading zeros.
 */
export const CodeField = forwardRef<HTMLInputElement, CodeFieldProps>(function CodeField(
  { label, hidden, name, testId, value, onChange, required },
  ref,
) {
  return (
    <label hidden={hidden}>
      {label}
      <input
        ref={ref}
        type="text"
        name={name}
        inputMode="numeric"
        autoComplete="one-time-code"
        required={required}
        data-testid={testId}
        value={value}
        onChange={(event) => onChange(event.target.value)}
      />
    </label>
  )
})
