import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import type { SessionRow } from '../api.js'
import { deviceName } from '../device-name.js'
import { localTime } from '../local-time.js'
import { describeFailure } from '../messages.js'
import { useTRPC } from '../trpc.js'
import { Outcome } from './outcome.js'

/** This device first, then the most recently used. */
const byRecency = (a: SessionRow, b: SessionRow) =>
  Number(b.current) - Number(a.current) || b.lastUsedAt.localeCompare(a.lastUsedAt)

/** The user's sessions, this one marked; any other can be revoked from here. */
export function SessionsCard() {
  const trpc = useTRPC()
  const queryClient = useQueryClient()
  const sessions = useQuery(trpc.sessions.list.queryOptions())
  const revoke = useMutation(
    trpc.sessions.revoke.mutationOptions({
      onSuccess: () => queryClient.invalidateQueries(trpc.sessions.list.queryFilter()),
    }),
  )
  // A refused revocation stands until the list is read again; a failed read until one succeeds.
  const message =
    revoke.isError && revoke.submittedAt > sessions.dataUpdatedAt
      ? describeFailure(revoke.error, 'revoke')
      : sessions.error
        ? describeFailure(sessions.error, 'other')
        : undefined

  return (
    <section className="card">
      <h2>Sessions</h2>
      <table data-testid="sessions">
        <thead>
          <tr>
            <th>Device</th>
            <th>IP</th>
            <th>Signed in</th>
            <th>Last active</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {[...(sessions.data ?? [])].sort(byRecency).map((row) => (
            <tr
              key={row.id}
              className={row.current ? 'current' : undefined}
              data-testid="session-row"
              data-session-id={row.id}
              data-current={String(row.current)}
            >
              <td>{deviceName(row.userAgent)}</td>
              <td>{row.ip ?? '–'}</td>
              <td>{localTime(row.createdAt)}</td>
              <td>{localTime(row.lastUsedAt)}</td>
              <td>
                {row.current ? (
                  <span className="badge" data-testid="current-session">
                    This device
                  </span>
                ) : (
                  <button
                    type="button"
                    className="secondary small"
                    disabled={revoke.isPending && revoke.variables.sessionId === row.id}
                    data-testid="revoke-session"
                    onClick={() => revoke.mutate({ sessionId: row.id })}
                  >
                    Revoke
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <Outcome kind="error" message={message} />
    </section>
  )
}
