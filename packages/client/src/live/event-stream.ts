/** One Server-Sent Event: its `event:` name (`message` when none), `data:` lines, `id:`. */
export interface ServerSentEvent {
  event: string
  data: string
  id: string | undefined
}

/** The part of a WHATWG `ReadableStream` the reader uses; a fetch `Response.body` is one. */
export interface ByteStream {
  getReader(): {
    read(): Promise<{ done: boolean; value?: Uint8Array | undefined }>
    cancel(reason?: unknown): Promise<void>
  }
}

/** Whether a response body can be read as a stream here (Node's and browsers' fetch: yes; node-fetch: no). */
export function isByteStream(body: unknown): body is ByteStream {
  return (
    typeof body === 'object' &&
    body !== null &&
    typeof (body as { getReader?: unknown }).getReader === 'function'
  )
}

/**
 * Reads an `text/event-stream` body as the HTML spec's EventSource parses it
 * (lines end in CRLF, LF or CR; `:` starts a comment; a blank line dispatches;
 * `data:` lines join with LF), calling `onEvent` for each event and `onBytes`
 * for every chunk (comments and pings included, for an inactivity watchdog).
 * `onEvent` returns `true` to stop reading. Resolves when the stream ends or
 * is stopped; rejects when reading fails (a dropped connection, an abort).
 *
 * Over fetch rather than `EventSource`: it takes headers (bearer tokens), runs
 * in Node, and leaves reconnecting to the caller's backoff instead of the
 * browser's fixed retry.
 */
export async function readEventStream(
  body: ByteStream,
  onEvent: (event: ServerSentEvent) => boolean | undefined,
  onBytes: () => void = () => {},
): Promise<void> {
  const reader = body.getReader()
  const decoder = new TextDecoder()
  let buffer = ''
  let event = ''
  let data: string[] = []
  let id: string | undefined
  let stop = false

  const line = (text: string) => {
    if (text === '') {
      if (data.length > 0) {
        stop = onEvent({ event: event || 'message', data: data.join('\n'), id }) === true
      }
      event = ''
      data = []
      return
    }
    if (text.startsWith(':')) return
    const colon = text.indexOf(':')
    const field = colon === -1 ? text : text.slice(0, colon)
    let value = colon === -1 ? '' : text.slice(colon + 1)
    if (value.startsWith(' ')) value = value.slice(1)
    if (field === 'event') event = value
    else if (field === 'data') data.push(value)
    else if (field === 'id' && !value.includes('\0')) id = value
    // `retry:` is ignored: reconnecting is the caller's backoff.
  }

  try {
    while (!stop) {
      const { done, value } = await reader.read()
      if (done) break
      onBytes()
      buffer += decoder.decode(value, { stream: true })
      for (;;) {
        const end = buffer.search(/[\r\n]/)
        if (end === -1) break
        // A CR at the very end may be half of a CRLF split across chunks: wait for the next one.
        if (buffer[end] === '\r' && end === buffer.length - 1) break
        const width = buffer[end] === '\r' && buffer[end + 1] === '\n' ? 2 : 1
        line(buffer.slice(0, end))
        buffer = buffer.slice(end + width)
        if (stop) break
      }
    }
  } finally {
    // Stopped early, or failed: release the connection either way.
    await reader.cancel().catch(() => {})
  }
}
