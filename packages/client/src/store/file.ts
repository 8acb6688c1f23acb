import { randomBytes } from 'node:crypto'
import { chmod, mkdir, open, readFile, rename, unlink } from 'node:fs/promises'
import path from 'node:path'
import { isTokens, type Tokens } from '../wire.js'
import type { TokenStore } from './types.js'

/** Owner read/write only: the file holds a live refresh token. */
const FILE_MODE = 0o600
const DIR_MODE = 0o700

/**
 * A {@link TokenStore} in a JSON file (Node only: import it from
 * `@breakwater/client/node`). The file is created with mode 0600 in a 0700
 * directory, and every write goes to a temporary file that is renamed over the
 * old one, so a crash mid-write never leaves a torn file or loses the rotated
 * refresh token.
 *
 * @example
 * ```ts
 * import { fileTokenStore } from '@breakwater/client/node'
 * const store = fileTokenStore(path.join(os.homedir(), '.config/myapp/credentials.json'))
 * ```
 */
export function fileTokenStore(file: string): TokenStore {
  const target = path.resolve(file)
  return {
    async get() {
      let text: string
      try {
        text = await readFile(target, 'utf8')
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null
        throw error
      }
      try {
        const parsed: unknown = JSON.parse(text)
        return isTokens(parsed) ? parsed : null
      } catch {
        // A file we cannot read as tokens is as good as none: sign in again.
        return null
      }
    },
    async set(tokens: Tokens) {
      await mkdir(path.dirname(target), { recursive: true, mode: DIR_MODE })
      const temp = `${target}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`
      // 'wx': never follow or reuse an existing file; the mode applies at creation.
      const handle = await open(temp, 'wx', FILE_MODE)
      try {
        await handle.writeFile(`${JSON.stringify(tokens, null, 2)}\n`, 'utf8')
        await handle.sync()
      } finally {
        await handle.close()
      }
      try {
        // The umask may have narrowed the mode further, never widened it; set it exactly.
        await chmod(temp, FILE_MODE)
        await rename(temp, target)
      } catch (error) {
        await unlink(temp).catch(() => {})
        throw error
      }
    },
    async clear() {
      try {
        await unlink(target)
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
      }
    },
  }
}
