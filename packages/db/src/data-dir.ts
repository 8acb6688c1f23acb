import {
  accessSync,
  chmodSync,
  constants,
  lstatSync,
  mkdirSync,
  readdirSync,
  rmSync,
  type Stats,
  statSync,
  writeFileSync,
} from 'node:fs'
import path from 'node:path'
import { DataDirInsecure, DataDirUnwritable } from './errors.js'

/** Default data directory of the embedded database (SPEC §2). */
export const DEFAULT_DATA_DIR = './.breakwater'

/**
 * The embedded data directory, absolute: `dataDir`, else `BREAKWATER_DATA_DIR`, else
 * `./.breakwater`.
 */
export function resolveDataDir(dataDir: string | undefined): string {
  const dir = dataDir ?? process.env.BREAKWATER_DATA_DIR ?? DEFAULT_DATA_DIR
  return path.resolve(dir === '' ? DEFAULT_DATA_DIR : dir)
}

// SPEC §2: the data directory holds the WAL and the relation files, so every value ever
// written (sealed keys, hashes, emails); only its owner may read or write any of it.
const PRIVATE_DIR = 0o700
const PRIVATE_FILE = 0o600
// Read or write for group or others. Search (x) alone lists nothing and opens nothing
// under a 0700 directory below it, so it is tolerated.
const SHARED_BITS = 0o066

// mkdir + access alone pass for root on a read-only mount and say nothing about a
// full disk, so actually write a file.
function assertWritable(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR })
    accessSync(dir, constants.W_OK)
    const probe = path.join(dir, `.write-probe-${process.pid}`)
    writeFileSync(probe, '', { mode: PRIVATE_FILE })
    rmSync(probe)
  } catch (error) {
    throw new DataDirUnwritable(dir, { cause: error })
  }
}

function statOrUndefined(dir: string): Stats | undefined {
  try {
    return statSync(dir)
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ENOENT') return undefined
    throw new DataDirUnwritable(dir, { cause: error })
  }
}

// Makes everything below `dir` private: files 0600, directories 0700. PGlite creates its
// files with the process umask (0644, or 0666 under umask 0), and older versions of this
// package created the directories 0755. Symbolic links are neither followed nor changed
// (chmod would follow one out of the directory).
function makePrivate(dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name)
    if (entry.isSymbolicLink()) continue
    const target = entry.isDirectory() ? PRIVATE_DIR : entry.isFile() ? PRIVATE_FILE : undefined
    if (target === undefined) continue
    if ((lstatSync(full).mode & 0o777) !== target) chmodSync(full, target)
    if (entry.isDirectory()) makePrivate(full)
  }
}

/**
 * Prepares the embedded data directory (SPEC §2: "created 0700 (files 0600); refuses to
 * start on one that others can read or write"). An existing directory is checked before
 * anything is written to it; one created here is private from the start.
 */
export function prepareDataDir(dataDir: string): void {
  const existing = statOrUndefined(dataDir)
  if (existing?.isDirectory() && process.platform !== 'win32') {
    if ((existing.mode & SHARED_BITS) !== 0) throw new DataDirInsecure(dataDir, existing.mode)
  }
  assertWritable(dataDir)
  assertWritable(path.join(dataDir, 'pglite'))
}

/**
 * Tightens what the data directory holds once PGlite has opened (and, on a fresh
 * directory, created) its files and the migrations have created theirs. Until then
 * the 0700 directory already keeps everyone else out.
 */
export function tightenDataDir(dataDir: string): void {
  if (process.platform === 'win32') return
  try {
    makePrivate(dataDir)
  } catch (error) {
    throw new DataDirUnwritable(dataDir, { cause: error })
  }
}
