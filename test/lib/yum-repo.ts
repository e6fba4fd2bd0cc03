import {execa} from 'execa'
import {mkdir, readdir, rm, writeFile} from 'node:fs/promises'
import path from 'node:path'
import type {TemplateServer} from './template-server.js'

/** A noarch RPM spec whose one file says where it came from (gzip payload: busybox's rpm unpacks it). */
export function spec(name: string, version: string, release: string, origin: string): string {
  return `%define _binary_payload w9.gzdio
Name: ${name}
Version: ${version}
Release: ${release}
Summary: test package
License: GPL
BuildArch: noarch
%description
test
%install
mkdir -p %{buildroot}/usr/share/${name}
echo ${origin} > %{buildroot}/usr/share/${name}/origin
%files
/usr/share/${name}/origin
`
}

/** Build RPMs from specs into `dir` (under noarch/) and write yum metadata there. */
export async function buildYumRepo(dir: string, specs: string[]): Promise<void> {
  const work = path.join(path.dirname(dir), `.${path.basename(dir)}-build`)
  await mkdir(work, {recursive: true})
  for (const [index, text] of specs.entries()) {
    const file = path.join(work, `${index}.spec`)
    await writeFile(file, text)
    await execa('rpmbuild', ['-bb', '--quiet', '--define', `_topdir ${work}`, '--define', `_rpmdir ${dir}`, file])
  }
  await rm(work, {recursive: true, force: true})
  await execa('createrepo_c', ['-q', dir])
}

/** Serve every file of `dir` from the loopback server at the same relative path. */
export async function serveYumRepo(server: TemplateServer, dir: string, urlPrefix = ''): Promise<void> {
  for (const name of await readdir(dir, {recursive: true})) {
    if (!name.includes('.')) continue
    server.serveFile(`${urlPrefix}/${name}`, path.join(dir, name))
  }
}
