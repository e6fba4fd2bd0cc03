import {collect, type Prefix} from '@lago/core'

/**
 * runtest's collection on failure: core's collect of every VM's artifacts (its init-file
 * `artifacts`, else its VM type's defaults such as /var/log/ovirt-engine) into `dir`.
 */
export async function collectArtifacts(prefix: Prefix, dir: string, options: {signal?: AbortSignal} = {}): Promise<void> {
  await collect(prefix, {output: dir, signal: options.signal}).catch((error: Error) => {
    // The test failure is what the user needs to see; a VM that cannot be read is secondary.
    process.stderr.write(`warning: collecting the artifacts into ${dir} failed: ${error.message}\n`)
  })
}
