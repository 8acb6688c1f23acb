import type { FastifyServerOptions } from 'fastify'

/**
 * Paths pino blanks before a line is written: tokens, cookies and passwords
 * never reach a log, whatever a handler or a serializer passes to it. Fixed
 * when the logger is made, as pino compiles them once.
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  '*.password',
  '*.currentPassword',
  '*.newPassword',
  '*.refreshToken',
  '*.accessToken',
  '*.token',
  'input.password',
  'input.refreshToken',
]

export function loggerOptions(level: string): FastifyServerOptions['logger'] {
  if (level === 'silent') return false
  return {
    level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    serializers: {
      // The query string of a GET may carry a procedure's input: log the path only.
      req: (request: { method: string; url: string; ip?: string }) => ({
        method: request.method,
        path: request.url.split('?')[0],
        ip: request.ip,
      }),
    },
  }
}
