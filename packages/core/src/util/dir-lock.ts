import {mkdir} from 'node:fs/promises'
import type {LagoError} from '../errors.js'

/**
 * An exclusive lock file in `dir` (made if needed, group-shared like the lease directory),
 * for work that processes sharing that directory must do one at a time. A holder that dies
 * leaves a lock that goes stale after 10 s. Resolves with its release; `failure` words errors.
 */
export async function lockInDir(dir: string, lockfilePath: string, failure: (error: unknown) => LagoError, retries = 200): Promise<() => Promise<void>> {
  try {
    await mkdir(dir, {recursive: true, mode: 0o3775})
  } catch (error) {
    throw failure(error)
  }
  const lockfile = await import('proper-lockfile')
  try {
    return await lockfile.lock(dir, {realpath: false, lockfilePath, stale: 10_000, retries: {retries, factor: 1.2, minTimeout: 20, maxTimeout: 250}})
  } catch (error) {
    throw failure(error)
  }
}
