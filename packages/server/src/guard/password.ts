import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { createRequire } from 'node:module'
import type { ResolvedOptions } from '../options.js'

export interface PasswordHasher {
  hash(password: string): Promise<string>
  /** False for a wrong password and for a hash that cannot be parsed; never throws for either. */
  verify(hash: string, password: string): Promise<boolean>
  /**
   * Spends the time of a real verification on a dummy hash, so an unknown
   * email answers in the time a wrong password does (SPEC §6).
   */
  verifyDummy(password: string): Promise<void>
  close(): void
}

// The hashing process. It lowers its own priority before the first hash, so
// the libuv threads that argon2 runs on (created lazily, inheriting the nice
// value) yield the CPU to the server: a burst of logins then queues instead of
// stretching every authenticated call. Requests are handled in order,
// `concurrency` at a time.
const WORKER_SOURCE = `
const os = require('node:os')
try { os.setPriority(19) } catch {}
const argon2 = require(process.env.BREAKWATER_ARGON2_PATH)
const params = JSON.parse(process.env.BREAKWATER_ARGON2_PARAMS)
let running = 0
const queue = []
function pump() {
  while (running < params.concurrency && queue.length) {
    const { id, op, password, hash } = queue.shift()
    running++
    const work = op === 'hash'
      ? argon2.hash(password, { type: argon2.argon2id, memoryCost: params.memoryCost, timeCost: params.timeCost, parallelism: params.parallelism })
      : argon2.verify(hash, password).catch(() => false)
    work.then((result) => process.send({ id, result }), () => process.send({ id, error: true }))
      .finally(() => { running--; pump() })
  }
}
process.on('message', (message) => { queue.push(message); pump() })
process.on('disconnect', () => process.exit(0))
`

/**
 * Thrown instead of queueing when `maxQueuedHashes` checks already wait: a
 * burst must not grow an unbounded queue that stalls every sign-in behind it.
 */
export class HashQueueFull extends Error {
  constructor() {
    super('password hashing queue is full')
    this.name = 'HashQueueFull'
  }
}

interface Pending {
  resolve(value: string | boolean): void
  reject(error: Error): void
}

/**
 * argon2id off the server's thread and below its priority (see the worker
 * above): on a 2-core machine, a burst of logins would otherwise take the
 * cores from the thread that answers every authenticated call.
 */
export async function createPasswordHasher(options: ResolvedOptions): Promise<PasswordHasher> {
  const argon2Path = createRequire(import.meta.url).resolve('argon2')
  const pending = new Map<number, Pending>()
  let nextId = 0
  let child: ChildProcess | undefined
  let closed = false

  const start = (): ChildProcess => {
    const worker = spawn(process.execPath, ['--input-type=commonjs', '-e', WORKER_SOURCE], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: {
        BREAKWATER_ARGON2_PATH: argon2Path,
        BREAKWATER_ARGON2_PARAMS: JSON.stringify({
          ...options.argon2,
          concurrency: options.maxConcurrentHashes,
        }),
      },
    })
    worker.on('message', (message: { id: number; result?: string | boolean; error?: boolean }) => {
      const entry = pending.get(message.id)
      pending.delete(message.id)
      if (message.error) entry?.reject(new Error('password hashing failed'))
      else entry?.resolve(message.result as string | boolean)
    })
    worker.on('exit', () => {
      if (child === worker) child = undefined
      for (const entry of pending.values())
        entry.reject(new Error('password hashing process exited'))
      pending.clear()
    })
    // The server must never exit because of, or wait for, its hashing process.
    worker.unref()
    worker.channel?.unref()
    return worker
  }

  const request = <T extends string | boolean>(message: {
    op: 'hash' | 'verify'
    password: string
    hash?: string
  }) =>
    new Promise<T>((resolve, reject) => {
      if (closed) {
        reject(new Error('password hasher is closed'))
        return
      }
      if (pending.size >= options.maxConcurrentHashes + options.maxQueuedHashes) {
        reject(new HashQueueFull())
        return
      }
      child ??= start()
      const id = nextId++
      pending.set(id, { resolve: resolve as Pending['resolve'], reject })
      child.channel?.ref()
      child.send({ id, ...message }, (error) => {
        if (error) {
          pending.delete(id)
          reject(error)
        }
      })
    }).finally(() => {
      if (pending.size === 0) child?.channel?.unref()
    })

  const verify = (hash: string, password: string) =>
    request<boolean>({ op: 'verify', hash, password })
  const dummyHash = await request<string>({
    op: 'hash',
    password: randomBytes(24).toString('base64url'),
  })

  return Object.freeze({
    hash: (password: string) => request<string>({ op: 'hash', password }),
    verify,
    async verifyDummy(password: string) {
      await verify(dummyHash, password)
    },
    close() {
      closed = true
      child?.disconnect()
      child = undefined
    },
  })
}
