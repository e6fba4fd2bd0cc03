import {readFile} from 'node:fs/promises'
import {LagoError, isSafeName} from '@lago/core'

export interface RepoSections {
  /** Sections whose name ends in `-<distro>` for a distro of the environment. */
  used: {id: string; distro: string}[]
  /** Every other section (not `main`), named so the user sees what was left out. */
  skipped: string[]
}

/**
 * The sections of a yum .repo file that apply to the environment. As in the original
 * plugin, a section is used only when its name ends in `-<distro>` for one of `distros`
 * (e.g. `ovirt-master-el8` for distro `el8`); the others are skipped, and said so.
 */
export async function readRepoSections(file: string, distros: string[]): Promise<RepoSections> {
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new LagoError('USAGE', `Cannot read the yum config ${file}: ${error.code === 'ENOENT' ? 'no such file' : error.message}.`, {
      hint: 'Pass an existing .repo file with --reposync-yum-config, or only --custom-source.',
    })
  })
  const {parse} = await import('ini')
  const names = Object.keys(parse(text)).filter((name) => name !== 'main')
  if (names.length === 0) throw new LagoError('USAGE', `The yum config ${file} has no repository sections ([name] followed by baseurl=...).`)
  const used: RepoSections['used'] = []
  const skipped: string[] = []
  for (const id of names) {
    if (!isSafeName(id)) {
      throw new LagoError('USAGE', `The yum config ${file}: section [${id}] is not a valid repository id (letters, digits, ".", "_", "-"; no ".."): it names a cache directory.`, {
        detail: {file, section: id},
      })
    }
    const distro = [...distros].sort((a, b) => b.length - a.length).find((d) => id.endsWith(`-${d}`))
    if (distro) used.push({id, distro})
    else skipped.push(id)
  }
  return {used, skipped}
}
