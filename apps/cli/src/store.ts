import { homedir } from 'node:os'
import path from 'node:path'
import type { TokenStore } from '@breakwater/client'
import { fileTokenStore } from '@breakwater/client/node'

/** `BREAKWATER_CONFIG_DIR`, else `~/.config/breakwater` (XDG's default place). */
export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  const dir = env.BREAKWATER_CONFIG_DIR
  return dir ? path.resolve(dir) : path.join(homedir(), '.config', 'breakwater')
}

/** The credentials file: 0600, rewritten atomically on every token rotation. */
export function credentialsStore(env: NodeJS.ProcessEnv = process.env): TokenStore {
  return fileTokenStore(path.join(configDir(env), 'credentials.json'))
}
