import {readdir, rm, stat} from 'node:fs/promises'
import path from 'node:path'
import {LagoError, run, whichFirst} from '@lago/core'
import {listRpms} from './rpm-files.js'

export interface BuildResult {
  source: string
  /** Directory holding the built binary RPMs. */
  dir: string
  rpms: string[]
  tool: 'mock' | 'rpmbuild'
}

/**
 * Build binary RPMs from a spec file, or from a source directory holding one spec (its
 * sources next to it), into `outDir`. With mock installed the build runs in a clean
 * chroot (so the host distro need not match the guests'); otherwise plain rpmbuild.
 */
export async function buildRpms(source: string, outDir: string, signal?: AbortSignal): Promise<BuildResult> {
  const spec = await findSpec(path.resolve(source))
  const sourceDir = path.dirname(spec)
  await rm(outDir, {recursive: true, force: true})
  const top = path.join(outDir, '.rpmbuild')
  const defines = ['--define', `_topdir ${top}`, '--define', `_sourcedir ${sourceDir}`, '--define', `_rpmdir ${outDir}`, '--define', `_srcrpmdir ${path.join(top, 'SRPMS')}`]
  const mock = await whichFirst(['mock'])
  try {
    if (mock) {
      await run('rpmbuild', ['-bs', ...defines, spec], {signal})
      const [srpm] = (await readdir(path.join(top, 'SRPMS'))).filter((n) => n.endsWith('.src.rpm'))
      await run(mock, ['--rebuild', path.join(top, 'SRPMS', srpm), '--resultdir', outDir], {signal})
    } else {
      await run('rpmbuild', ['-bb', ...defines, spec], {signal})
    }
  } catch (error) {
    throw new LagoError('REPO', `Building RPMs from ${spec} failed: ${(error as Error).message.split('\n').slice(-8).join('\n')}`, {
      hint: 'Build it by hand with rpmbuild -bb to see the whole log.',
      detail: {spec},
    })
  } finally {
    await rm(top, {recursive: true, force: true})
  }
  const rpms = (await listRpms(outDir)).map((name) => path.join(outDir, name))
  if (rpms.length === 0) throw new LagoError('REPO', `Building ${spec} produced no binary RPM.`, {detail: {spec}})
  return {source, dir: outDir, rpms, tool: mock ? 'mock' : 'rpmbuild'}
}

async function findSpec(source: string): Promise<string> {
  const info = await stat(source).catch(() => undefined)
  if (!info) throw new LagoError('USAGE', `--build ${source}: no such file or directory.`, {hint: 'Give a .spec file or a directory holding one.'})
  if (info.isFile()) {
    if (!source.endsWith('.spec')) throw new LagoError('USAGE', `--build ${source} is not a .spec file.`, {hint: 'Give a .spec file or a directory holding one.'})
    return source
  }
  const specs = (await readdir(source)).filter((n) => n.endsWith('.spec'))
  if (specs.length !== 1) {
    throw new LagoError('USAGE', `--build ${source}: expected exactly one .spec file in the directory, found ${specs.length === 0 ? 'none' : specs.join(', ')}.`, {
      hint: 'Pass the spec file itself.',
    })
  }
  return path.join(source, specs[0])
}
