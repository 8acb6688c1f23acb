import t from 'tap'
import {
  BREAKWATER_REASONS,
  isBreakwaterReason,
  nextMove,
  PROCEDURES,
  procedurePaths,
  REASON_CODES,
  refreshPath,
} from '../src/index.js'

t.test('every reason has a tRPC code and a next move', async (t) => {
  t.same(Object.keys(REASON_CODES).sort(), [...BREAKWATER_REASONS].sort())
  t.equal(nextMove('TOKEN_EXPIRED'), 'refresh', 'only an expired token is worth a refresh')
  t.equal(nextMove('REAUTH_REQUIRED'), 'reauthenticate', 'step-up: prove a factor, then retry')
  t.equal(nextMove('TOKEN_MISSING'), 'sign-out', 'no access cookie means no session (SPEC §5)')
  t.equal(nextMove('REFRESH_REUSED'), 'sign-out')
  t.equal(nextMove('RATE_LIMITED'), 'fail')
  t.equal(nextMove(undefined), 'fail')
  t.equal(BREAKWATER_REASONS.filter((reason) => nextMove(reason) === 'refresh').length, 1)
})

t.test('reason guard and refresh path', async (t) => {
  t.ok(isBreakwaterReason('CSRF_REJECTED'))
  t.notOk(isBreakwaterReason('csrf_rejected'))
  t.notOk(isBreakwaterReason(42))
  t.equal(refreshPath(), '/trpc/auth.refresh')
  t.equal(refreshPath('/api/trpc/'), '/api/trpc/auth.refresh')
  t.equal(refreshPath('/api', 'account'), '/api/account.auth.refresh')
  t.equal(refreshPath('/api', 'v1.account'), '/api/v1.account.auth.refresh')
  t.equal(procedurePaths(), PROCEDURES, 'no namespace: the plain paths')
  t.equal(procedurePaths('').me, 'auth.me')
  t.equal(procedurePaths('account.').listSessions, 'account.sessions.list')
  t.same(Object.keys(procedurePaths('x')), Object.keys(PROCEDURES), 'every procedure, namespaced')
})
