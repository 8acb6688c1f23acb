import type { AddressInfo } from 'node:net'
import { type ParsedMail, simpleParser } from 'mailparser'
import { SMTPServer } from 'smtp-server'
import { sleep } from './support.js'

/** What the app's mail looks like once parsed: who it went to, and its text part. */
export interface Mail {
  to: string[]
  subject: string
  text: string
}

function recipients(mail: ParsedMail): string[] {
  const to = mail.to === undefined ? [] : Array.isArray(mail.to) ? mail.to : [mail.to]
  return to.flatMap((address) => address.value.map((entry) => entry.address ?? ''))
}

/**
 * A real SMTP server on loopback (port 0), as packages/server's tests use:
 * the app delivers to it with `SMTP_URL`, the test reads what arrived.
 */
export async function startSmtpServer() {
  const received: Mail[] = []
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, _session, callback) {
      simpleParser(stream).then(
        (mail) => {
          received.push({
            to: recipients(mail),
            subject: mail.subject ?? '',
            text: mail.text ?? '',
          })
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
    /**
     * The next mail to `address` not taken before (the app sends after it
     * answers, so the mail may lag the response). Bounded: 100 × 50 ms.
     */
    async next(address: string): Promise<Mail> {
      for (let attempt = 0; attempt < 100; attempt++) {
        const index = received.findIndex((mail) =>
          mail.to.some((to) => to.toLowerCase() === address.toLowerCase()),
        )
        if (index >= 0) return received.splice(index, 1)[0]!
        await sleep(50)
      }
      throw new Error(`no mail reached ${address} within 5 s`)
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

/** The first `<origin>/<action>?token=…` link in a mail's text part. */
export function linkIn(mail: Mail, action: string): URL {
  const found = mail.text.match(new RegExp(`https?://[^\\s<>"]+/${action}\\?token=[A-Za-z0-9_-]+`))
  if (!found) throw new Error(`no ${action} link in: ${mail.text}`)
  return new URL(found[0])
}
