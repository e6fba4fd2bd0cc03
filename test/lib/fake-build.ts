import {execa} from 'execa'
import {copyFile, mkdir, mkdtemp, readdir, rm, writeFile} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'

/**
 * What `npm run rpm` leaves in its --out directory, with tiny empty RPMs of the same names
 * (real headers, so createrepo_c indexes them): for release-tree tests that do not need
 * the real payload.
 */
export async function fakeBuild(out: string, version: string, changelog: string, dist = 'el9'): Promise<void> {
  const work = await mkdtemp(path.join(os.tmpdir(), 'lago-fake-rpm-'))
  try {
    const spec = path.join(work, 'lago.spec')
    await writeFile(
      spec,
      `Name: lago\nVersion: ${version}\nRelease: 1%{?dist}\nSummary: test\nLicense: GPL-2.0-or-later\nBuildArch: noarch\n` +
        `%description\ntest\n%package -n nodejs-lago\nSummary: test\n%description -n nodejs-lago\ntest\n` +
        `%package ovirt\nSummary: test\n%description ovirt\ntest\n%files\n%files -n nodejs-lago\n%files ovirt\n`,
    )
    await execa('rpmbuild', ['-bb', '--quiet', '--define', `_topdir ${work}`, '--define', `dist .${dist}`, spec])
    const rpmDir = path.join(out, 'rpm', dist)
    await mkdir(rpmDir, {recursive: true})
    const built = path.join(work, 'RPMS/noarch')
    for (const name of await readdir(built)) await copyFile(path.join(built, name), path.join(rpmDir, name))
    await mkdir(path.join(out, 'sources'), {recursive: true})
    for (const name of ['lago-core', 'lago-cli', 'lago-plugin-ovirt']) await writeFile(path.join(out, 'sources', `${name}-${version}.tgz`), `${name} ${version}\n`)
    await writeFile(path.join(out, 'ChangeLog'), changelog)
    await writeFile(path.join(out, 'version'), `${version}\n`)
  } finally {
    await rm(work, {recursive: true, force: true})
  }
}
