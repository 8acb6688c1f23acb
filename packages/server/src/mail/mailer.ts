import { randomBytes } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import type { FastifyBaseLogger } from 'fastify'
import nodemailer from 'nodemailer'
import type { MailContent } from './templates.js'

/** A mail ready to go. `purpose` is for the log, which never holds the mail's content. */
export interface OutgoingMail extends MailContent {
  readonly to: string
  readonly purpose: string
}

/** Where mail goes: an SMTP server, or the outbox folder when there is none. */
export interface MailTransport {
  /** Resolves with where the mail went (for the log: a file name or `smtp`). */
  deliver(mail: OutgoingMail & { from: string }): Promise<string>
  close(): void
}

/** `smtp://` or `smtps://` (user and password in the URL), through nodemailer. */
export function smtpTransport(url: string): MailTransport {
  const transport = nodemailer.createTransport(url)
  return {
    async deliver(mail) {
      await transport.sendMail({
        from: mail.from,
        to: mail.to,
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
      })
      return 'smtp'
    },
    close: () => transport.close(),
  }
}

/**
 * Writes each mail as an `.eml` file (0600, in a 0700 folder): with no SMTP server,
 * a developer opens the link from there. The log names the file, never the token.
 */
export function outboxTransport(dir: string): MailTransport {
  const builder = nodemailer.createTransport({ streamTransport: true, buffer: true })
  return {
    async deliver(mail) {
      mkdirSync(dir, { recursive: true, mode: 0o700 })
      const info = await builder.sendMail({
        from: mail.from,
        to: mail.to,
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
      })
      const name = `${new Date().toISOString().replace(/[:.]/g, '-')}-${mail.purpose}-${randomBytes(4).toString('hex')}.eml`
      const file = path.join(dir, name)
      writeFileSync(file, info.message as Buffer, { mode: 0o600, flag: 'wx' })
      return file
    },
    close: () => builder.close(),
  }
}

/** Delivery attempts and the waits between them. */
const BACKOFF_MS = [1_000, 5_000, 25_000]

/**
 * Sends in the background, so a request answers the same whether or not a mail
 * goes out (no enumeration through timing or errors), and retries a failed send
 * with backoff; every failure is logged with the mail's purpose only.
 */
export class Mailer {
  readonly #transport: MailTransport
  readonly #from: string
  readonly #log: FastifyBaseLogger
  readonly #pending = new Set<Promise<void>>()
  readonly #backoff: readonly number[]
  // Waits before a retry, cleared by close() so a shutdown never waits on them.
  readonly #waits = new Map<NodeJS.Timeout, () => void>()
  #closed = false

  constructor(options: {
    transport: MailTransport
    from: string
    log: FastifyBaseLogger
    backoffMs?: readonly number[]
  }) {
    this.#transport = options.transport
    this.#from = options.from
    this.#log = options.log
    this.#backoff = options.backoffMs ?? BACKOFF_MS
  }

  /** Queues a mail; never throws, never waits for the send. */
  send(mail: OutgoingMail): void {
    if (this.#closed) return
    const job = this.#attempt(mail, 0).finally(() => this.#pending.delete(job))
    this.#pending.add(job)
  }

  async #attempt(mail: OutgoingMail, attempt: number): Promise<void> {
    try {
      const where = await this.#transport.deliver({ ...mail, from: this.#from })
      this.#log.info({ mail: mail.purpose, to: where === 'smtp' ? 'smtp' : where }, 'mail sent')
    } catch (error) {
      const wait = this.#backoff[attempt]
      const retrying = wait !== undefined && !this.#closed
      this.#log.warn(
        { mail: mail.purpose, attempt: attempt + 1, err: { message: (error as Error).message } },
        retrying ? 'mail not sent; will retry' : 'mail not sent; giving up',
      )
      if (!retrying) return
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.#waits.delete(timer)
          resolve()
        }, wait)
        this.#waits.set(timer, resolve)
      })
      if (!this.#closed) await this.#attempt(mail, attempt + 1)
    }
  }

  /** Resolves when every queued mail was sent or given up (for tests and shutdown). */
  async idle(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending])
  }

  close(): void {
    this.#closed = true
    for (const [timer, resolve] of this.#waits) {
      clearTimeout(timer)
      resolve()
    }
    this.#waits.clear()
    this.#transport.close()
  }
}
