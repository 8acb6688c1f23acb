import { stderr, stdin } from 'node:process'
import { nextPipedLine } from './piped-lines.js'

/** A usage problem: reported with a hint, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError'
}

/**
 * One answer: the next line of stdin when it is piped (scripts, tests), or
 * typed at a prompt on a terminal, hidden unless `visible`. Empty: a
 * `UsageError` with `missing`.
 */
async function ask(prompt: string, missing: string, visible = false): Promise<string> {
  const answer = stdin.isTTY ? await terminalPrompt(prompt, visible) : await nextPipedLine()
  if (!answer) throw new UsageError(missing)
  return answer
}

/**
 * The password: a line of stdin when it is piped, or typed at a hidden
 * prompt on a terminal. It never appears in arguments, where `ps` and shell
 * history would keep it.
 */
export function readPassword(prompt = 'Password: '): Promise<string> {
  return ask(prompt, 'A password is required (type it at the prompt or pipe it on stdin).')
}

/**
 * A mailed link, its token, or a sign-in code: hidden as a password is, since
 * for a few minutes it works like one.
 */
export function readSecret(prompt: string, missing: string): Promise<string> {
  return ask(prompt, missing)
}

/** An answer that is no secret (a confirmation), echoed as it is typed. */
export function readLine(prompt: string, missing: string): Promise<string> {
  return ask(prompt, missing, true)
}

function terminalPrompt(prompt: string, visible: boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    stderr.write(prompt)
    stdin.setRawMode(true)
    stdin.setEncoding('utf8')
    stdin.resume()
    let value = ''
    const finish = (error?: Error) => {
      stdin.setRawMode(false)
      stdin.pause()
      stdin.off('data', onData)
      stderr.write('\n')
      if (error) reject(error)
      else resolve(value)
    }
    const onData = (chunk: string) => {
      for (const char of chunk) {
        if (char === '\r' || char === '\n' || char === '\u0004') return finish()
        if (char === '\u0003') return finish(new UsageError('Cancelled.'))
        if (char === '\u007f' || char === '\b') {
          if (visible && value) stderr.write('\b \b')
          value = value.slice(0, -1)
        } else if (char >= ' ') {
          value += char
          if (visible) stderr.write(char)
        }
      }
    }
    stdin.on('data', onData)
  })
}
