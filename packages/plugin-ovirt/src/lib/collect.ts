import {mkdir} from 'node:fs/promises'
import path from 'node:path'
import {copyFromGuest, execCapture, log, vmArtifacts, type Prefix} from '@lago/core'
import {quote} from 'shell-quote'

/**
 * Copy each running VM's artifacts (its init-file `artifacts`, else its VM type's
 * defaults) into DIR/<vm>/<path with / replaced by _>. Missing paths are skipped.
 */
export async function collectArtifacts(prefix: Prefix, dir: string, options: {signal?: AbortSignal} = {}): Promise<void> {
  const runtime = await prefix.provider.runtime()
  await Promise.all(
    prefix.state.vms.map(async (vm) => {
      const target = path.join(dir, vm.name)
      await mkdir(target, {recursive: true})
      if (runtime.vms.get(vm.libvirtName) !== 'running') return log.warn(`collect: ${vm.name} is not running; nothing collected from it`)
      await prefix.withGuest(vm.name, options.signal, async (client) => {
        for (const artifact of vmArtifacts(vm)) {
          if ((await execCapture(client, `test -e ${quote([artifact])}`)).exitCode !== 0) {
            log.warn(`collect: ${vm.name}:${artifact} does not exist; skipped`)
            continue
          }
          await copyFromGuest(client, artifact, path.join(target, artifact.replaceAll('/', '_')))
        }
      })
    }),
  )
}
