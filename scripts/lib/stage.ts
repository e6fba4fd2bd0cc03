// The packages as they will be installed: `npm pack`ed from the workspace, unpacked into a
// scratch copy of the monorepo, production dependencies installed there from the lockfile,
// then versioned. The checkout itself is never modified (its package.json files keep the
// version in lerna.json, so `npm ci` and the workspaces stay as they are).
import {execa} from 'execa'
import {copyFile, mkdir, readFile, writeFile} from 'node:fs/promises'
import path from 'node:path'

export interface PackageInfo {
  /** npm name. */
  name: string
  /** Folder under packages/. */
  folder: string
  /** RPM (sub)package holding it. */
  rpm: string
}

/** In dependency order: each RPM requires the ones before it. */
export const PACKAGES: PackageInfo[] = [
  {name: '@lago/core', folder: 'core', rpm: 'nodejs-lago'},
  {name: '@lago/cli', folder: 'cli', rpm: 'lago'},
  {name: '@lago/plugin-ovirt', folder: 'plugin-ovirt', rpm: 'lago-ovirt'},
]

const quiet = {env: {npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false'}}

/** Stages the packages under `tree` and returns each one's directory there. */
export async function stagePackages(repo: string, tree: string, version: string): Promise<Map<string, string>> {
  const packs = path.join(tree, '.packs')
  await mkdir(packs, {recursive: true})
  const workspaceArgs = PACKAGES.flatMap((p) => ['-w', p.name])
  const {stdout} = await execa('npm', ['pack', '--silent', '--json', ...workspaceArgs, '--pack-destination', packs], {cwd: repo, ...quiet})
  const packed = JSON.parse(stdout) as {name: string; filename: string}[]
  const dirs = new Map<string, string>()
  for (const info of PACKAGES) {
    const dir = path.join(tree, 'packages', info.folder)
    await mkdir(dir, {recursive: true})
    const tarball = packed.find((p) => p.name === info.name)!.filename
    await execa('tar', ['-xzf', path.join(packs, tarball), '-C', dir, '--strip-components=1'])
    dirs.set(info.name, dir)
  }
  for (const file of ['package.json', 'package-lock.json']) await copyFile(path.join(repo, file), path.join(tree, file))
  // Optional dependencies are native add-ons (ssh2's cpu-features): noarch RPMs run without them.
  await execa('npm', ['ci', '--omit=dev', '--omit=optional', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], {cwd: tree, ...quiet})
  for (const dir of dirs.values()) await setVersion(dir, version)
  return dirs
}

/** Sets the package's version, its dependencies on sibling packages, and its oclif manifest's version (oclif ignores a manifest of another version). */
async function setVersion(dir: string, version: string): Promise<void> {
  const file = path.join(dir, 'package.json')
  const pjson = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown> & {version: string}
  pjson.version = version
  for (const field of ['dependencies', 'peerDependencies'] as const) {
    const deps = pjson[field] as Record<string, string> | undefined
    for (const name of Object.keys(deps ?? {})) if (PACKAGES.some((p) => p.name === name)) deps![name] = version
  }
  await writeFile(file, JSON.stringify(pjson, null, 2) + '\n')
  const manifestFile = path.join(dir, 'oclif.manifest.json')
  const manifest = await readFile(manifestFile, 'utf8').then(JSON.parse, () => undefined)
  if (manifest) await writeFile(manifestFile, JSON.stringify({...manifest, version}, null, 2) + '\n')
}

/** `npm pack` of a staged package: the upstream source tarball of its RPM. */
export async function packStaged(dir: string, destination: string): Promise<string> {
  const {stdout} = await execa('npm', ['pack', '--silent', '--json', '--ignore-scripts', dir, '--pack-destination', destination], quiet)
  return path.join(destination, (JSON.parse(stdout) as {filename: string}[])[0].filename)
}
