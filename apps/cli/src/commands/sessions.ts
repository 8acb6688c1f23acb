import type { CommandContext } from '../context.js'
import { NotSignedIn } from '../errors.js'

function when(iso: string): string {
  return `${iso.slice(0, 19).replace('T', ' ')}Z`
}

/** Left-aligned columns, two spaces apart. */
export function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)))
  return rows.map((row) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd(),
  )
}

/** `sessions`: this user's live sessions. */
export async function sessions(ctx: CommandContext): Promise<void> {
  if (!(await ctx.store.get())) throw new NotSignedIn()
  const list = await ctx.client.sessions.list.query()
  const rows = [['ID', 'CURRENT', 'CREATED', 'LAST USED', 'USER AGENT']]
  for (const s of list) {
    rows.push([
      s.id,
      s.current ? '*' : '',
      when(s.createdAt),
      when(s.lastUsedAt),
      s.userAgent ?? '-',
    ])
  }
  for (const line of table(rows)) ctx.out(line)
}

/** `revoke <id>`: ends one session; revoking the current one signs this CLI out. */
export async function revoke(ctx: CommandContext, sessionId: string | undefined): Promise<void> {
  if (!sessionId)
    throw new (await import('../prompt.js')).UsageError('Usage: breakwater revoke <session-id>')
  if (!(await ctx.store.get())) throw new NotSignedIn()
  const { session } = await ctx.client.auth.me.query()
  await ctx.client.sessions.revoke.mutate({ sessionId })
  if (session.id === sessionId) {
    await ctx.store.clear()
    ctx.out(`Revoked session ${sessionId} (this one); signed out.`)
  } else {
    ctx.out(`Revoked session ${sessionId}.`)
  }
}
