import { useEffect, useState } from 'react'

const TICK_MS = 200

/** Time left on the access token, ticking here: no call to the server. */
export function Countdown({ expiresAt }: { expiresAt: Date }) {
  const [now, setNow] = useState(Date.now)
  useEffect(() => {
    const ticker = setInterval(() => setNow(Date.now()), TICK_MS)
    return () => clearInterval(ticker)
  }, [])
  const left = expiresAt.getTime() - now
  return (
    <output
      data-testid="countdown"
      data-expires-at={expiresAt.toISOString()}
      className={left > 0 ? undefined : 'late'}
    >
      {left > 0 ? `${(left / 1000).toFixed(1)} s` : 'expired (renews on the next request)'}
    </output>
  )
}
