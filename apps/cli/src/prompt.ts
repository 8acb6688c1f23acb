import { stderr, stdin } from 'node:process'

/** A usage problem: reported with a hint, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError'
}

/**
 * The password: the first line of stdin when it is piped (scripts, tests), or
 * typed at a hidden prompt on a terminal. It never appears in arguments,
 * where `ps` and shell history would keep it.
 */
export async function readPassword(prompt = 'Password: '): Promise<string> {
  const password = stdin.isTTY ? await hiddenPrompt(prompt) : await firstLineOfStdin()
  if (!password)
    throw new UsageError('A password is required (type it at the prompt or pipe it on stdin).')
  return password
}

async function firstLineOfStdin(): Promise<string> {
  let text = ''
  stdin.setEncoding('utf8')
  for await (const chunk of stdin) {
    text += chunk as string
    if (text.includes('\n')) break
  }
  return text.split(/\r?\n/)[0] ?? ''
}

function hiddenPrompt(prompt: string): Promise<string> {
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
        if (char === '\u007f' || char === '\b') value = value.slice(0, -1)
        else if (char >= ' ') value += char
      }
    }
    stdin.on('data', onData)
  })
}
