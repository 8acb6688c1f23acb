import { stdin } from 'node:process'

// Far above a password (the server takes 1 KiB) or a pasted link, far below a
// file piped in by mistake.
const MAX_LINE = 64 * 1024

let buffered = ''
let ended = false
let listening = false
let wake: (() => void) | undefined

function listen(): void {
  if (listening) return
  listening = true
  stdin.setEncoding('utf8')
  stdin.on('data', (chunk: string) => {
    buffered += chunk
    wake?.()
  })
  const end = () => {
    ended = true
    wake?.()
  }
  stdin.on('end', end)
  stdin.on('error', end)
}

/**
 * The next line of piped stdin (without its `\r\n` or `\n`), or `undefined`
 * once stdin has ended. Commands that ask several things (`reset-password`
 * asks for the link, then the new password) read one line each, in order.
 * stdin is paused between reads, so a process that asked for everything it
 * needs exits even if the writer keeps the pipe open, and a line the writer
 * sends later (a link that arrived by mail meanwhile) is still read.
 */
export async function nextPipedLine(): Promise<string | undefined> {
  listen()
  for (;;) {
    const newline = buffered.indexOf('\n')
    if (newline >= 0) {
      const line = buffered.slice(0, newline).replace(/\r$/, '')
      buffered = buffered.slice(newline + 1)
      stdin.pause()
      return line
    }
    if (buffered.length > MAX_LINE) throw new Error('A line on stdin is too long.')
    if (ended) {
      const rest = buffered
      buffered = ''
      return rest === '' ? undefined : rest
    }
    await new Promise<void>((resolve) => {
      wake = resolve
      stdin.resume()
    })
    wake = undefined
  }
}
