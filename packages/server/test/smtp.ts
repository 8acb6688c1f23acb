import type { AddressInfo } from 'node:net'
import { type ParsedMail, simpleParser } from 'mailparser'
import { SMTPServer } from 'smtp-server'

/**
 * A real SMTP server on loopback (port 0) that keeps what arrives, parsed;
 * `failFirst` refuses that many messages first (a temporary failure).
 */
export async function startSmtpServer(failFirst = 0) {
  const received: ParsedMail[] = []
  let refused = 0
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, _session, callback) {
      simpleParser(stream).then(
        (mail) => {
          if (refused < failFirst) {
            refused++
            callback(new Error('451 try again later'))
            return
          }
          received.push(mail)
          callback()
        },
        (error: Error) => callback(error),
      )
    },
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.server.address() as AddressInfo
  return {
    url: `smtp://127.0.0.1:${port}`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

/** Waits (bounded: 3 s) for the n-th mail to arrive. */
export async function nthMail(received: readonly ParsedMail[], n: number): Promise<ParsedMail> {
  for (let i = 0; i < 150 && received.length < n; i++)
    await new Promise((resolve) => setTimeout(resolve, 20))
  const mail = received[n - 1]
  if (!mail) throw new Error(`mail ${n} never arrived`)
  return mail
}

/** The token of the `<publicUrl>/<action>?token=…` link in a mail's text part. */
export function linkToken(mail: ParsedMail, publicUrl: string, action: string): string {
  const match = new RegExp(`${publicUrl}/${action}\\?token=([A-Za-z0-9_-]+)`).exec(mail.text ?? '')
  if (!match) throw new Error(`no ${action} link in the mail`)
  return match[1] as string
}

/** Waits 300 ms and tells whether no mail arrived beyond `count`. */
export async function noMoreMail(received: readonly ParsedMail[], count: number): Promise<boolean> {
  await new Promise((resolve) => setTimeout(resolve, 300))
  return received.length === count
}

/** The 6-digit code of a sign-in code mail. */
export function codeIn(mail: ParsedMail): string {
  const match = /code is (\d{6})\./.exec(mail.text ?? '')
  if (!match) throw new Error('no code in the mail')
  return match[1] as string
}

/** Whether a mail went to this address (the server lower-cases the domain). */
export function sentTo(mail: ParsedMail, address: string): boolean {
  const to = Array.isArray(mail.to) ? mail.to[0] : mail.to
  return to?.value[0]?.address?.toLowerCase() === address.toLowerCase()
}
