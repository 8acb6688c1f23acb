export interface OutcomeProps {
  kind: 'error' | 'notice'
  /** What to say; nothing is shown without it. */
  message: string | null | undefined
  /** Default: the kind. A section inside a card that has its own lines needs others. */
  testId?: string
}

/** The `role="alert"` (error) or `role="status"` (notice) line a form shows its outcome in. */
export function Outcome({ kind, message, testId = kind }: OutcomeProps) {
  if (!message) return null
  return kind === 'error' ? (
    <p className="error" role="alert" data-testid={testId}>
      {message}
    </p>
  ) : (
    <p className="notice" role="status" data-testid={testId}>
      {message}
    </p>
  )
}
