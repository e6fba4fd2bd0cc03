// npm run rpm [-- --out DIR] [--dist el9]: the three noarch RPMs (nodejs-lago, lago,
// lago-ovirt) and the SRPM from npm-packed tarballs, with rpmbuild. Output (what
// `scripts/release publish-snapshot` takes):
//   OUT/rpm/DIST/*.noarch.rpm   OUT/sources/{lago-*.tgz,*.src.rpm}   OUT/ChangeLog   OUT/version
import {execa} from 'execa'
import {existsSync} from 'node:fs'
import {copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import {parseArgs} from 'node:util'
import {fileURLToPath} from 'node:url'
import {bundledProvides, bundleFileEntries, splitBundles, type InstalledPackage} from './bundle.js'
import {currentMajorSeries, formatChangelog} from './changelog.js'
import {resolveVersion} from './resolve-version.js'
import {PACKAGES, packStaged, stagePackages} from './stage.js'
import {formatVersion, RPM_RELEASE} from './version.js'
import {main, ScriptError} from './cli.js'

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const SPEC_TEMPLATE = path.join(REPO, 'rpm/lago.spec.in')
const MODULES_MACRO = '%{lago_modules}'

export interface RpmBuildOptions {
  out: string
  /** Distribution tag of the repository tree (el9, fc41): the RPMs' %{dist}. */
  dist: string
  /** rpmbuild's payload compression, e.g. w1.gzdio for quick test builds; rpm's default otherwise. */
  payload?: string
}

export interface RpmBuildResult {
  version: string
  rpms: string[]
  sources: string[]
}

export async function buildRpms(options: RpmBuildOptions): Promise<RpmBuildResult> {
  for (const p of PACKAGES) {
    if (!existsSync(path.join(REPO, 'packages', p.folder, 'lib'))) throw new ScriptError(`packages/${p.folder}/lib is missing: run npm run build first`)
  }
  const resolved = await resolveVersion(REPO)
  for (const warning of resolved.warnings) process.stderr.write(`rpm: warning: ${warning}\n`)
  const version = formatVersion(resolved.version)
  const changelog = resolved.history.length > 0 ? formatChangelog(currentMajorSeries(resolved.history)) : pinnedChangelog(version)
  const work = await mkdtemp(path.join(os.tmpdir(), 'lago-rpm-'))
  try {
    const sources = path.join(work, 'SOURCES')
    const {upstream, fields} = await prepareSources(work, sources, version)
    const spec = path.join(work, 'lago.spec')
    await writeFile(spec, fillTemplate(await readFile(SPEC_TEMPLATE, 'utf8'), {...fields, VERSION: version, RELEASE: String(RPM_RELEASE), CHANGELOG: changelog.replaceAll('%', '%%')}))
    await rpmbuild(spec, [
      ...define('_topdir', path.join(work, 'rpmbuild')),
      ...define('_sourcedir', sources),
      ...define('dist', `.${options.dist}`),
      ...(options.payload ? define('_binary_payload', options.payload) : []),
    ])
    return await collect(work, options, version, upstream, changelog)
  } finally {
    await rm(work, {recursive: true, force: true})
  }
}

/** Everything the spec's Source lines name, and the spec fields that depend on the bundles. */
async function prepareSources(work: string, sources: string, version: string): Promise<{upstream: string[]; fields: Record<string, string>}> {
  await mkdir(sources, {recursive: true})
  const tree = path.join(work, 'tree')
  const staged = await stagePackages(REPO, tree, version)
  const upstream = await Promise.all(PACKAGES.map((p) => packStaged(staged.get(p.name)!, sources)))
  const bundles = splitBundles(
    tree,
    PACKAGES.map((p) => ({name: p.name, dir: staged.get(p.name)!})),
  )
  const fields: Record<string, string> = {}
  for (const p of PACKAGES) {
    const owned = bundles.get(p.name)!
    await writeBundleTarball(tree, owned, path.join(sources, `${p.rpm}-${version}-nm-prod.tar.gz`))
    const key = p.rpm.toUpperCase().replaceAll('-', '_')
    fields[`BUNDLED_${key}`] = bundledProvides(owned).join('\n')
    fields[`FILES_${key}`] = bundleFileEntries(owned, MODULES_MACRO).join('\n')
  }
  await copyFile(path.join(REPO, 'rpm/lago-launcher'), path.join(sources, 'lago-launcher'))
  await writeFile(path.join(sources, '50-lago.rules'), await polkitRule())
  return {upstream, fields}
}

async function rpmbuild(spec: string, defines: string[]): Promise<void> {
  const result = await execa('rpmbuild', ['-ba', '--quiet', ...defines, spec], {stdio: ['ignore', 'pipe', 'pipe'], reject: false})
  if ((result as {code?: string}).code === 'ENOENT') throw new ScriptError('rpmbuild is not installed: apt-get install rpm (Debian/Ubuntu) or dnf install rpm-build (Fedora/EL)')
  if (result.exitCode !== 0) throw new ScriptError(`rpmbuild failed (exit ${result.exitCode}):\n${result.stderr}`)
}

function define(name: string, value: string): string[] {
  return ['--define', `${name} ${value}`]
}

export function fillTemplate(template: string, fields: Record<string, string>): string {
  return template.replace(/@([A-Z_]+)@/g, (whole, key: string) => {
    if (!(key in fields)) throw new Error(`rpm/lago.spec.in: no value for ${whole}`)
    return fields[key]
  })
}

/** A bundle as a tarball of node_modules/... (each package without its nested node_modules: those are packages of their own, in the list too). */
async function writeBundleTarball(tree: string, owned: InstalledPackage[], tarball: string): Promise<void> {
  const entries = ['node_modules']
  const renames = new Map<string, string>()
  for (const p of owned) {
    const relative = path.relative(tree, p.dir)
    if (relative !== p.installPath) renames.set(relative, p.installPath)
    entries.push(relative, ...(await listTree(p.dir, relative)))
  }
  const list = `${tarball}.list`
  await writeFile(list, entries.sort().join('\n') + '\n')
  const transforms = [...renames].flatMap(([from, to]) => ['--transform', `s,^${from}\\(/\\|$\\),${to}\\1,`])
  await execa('tar', ['--owner=0', '--group=0', '--numeric-owner', '--no-recursion', ...transforms, '-czf', tarball, '-C', tree, '-T', list])
  await rm(list)
}

/** Paths under `dir` (relative, prefixed with `prefix`), leaving out its own node_modules. */
async function listTree(dir: string, prefix: string): Promise<string[]> {
  const paths: string[] = []
  for (const entry of await readdir(dir, {recursive: true})) {
    if (entry === 'node_modules' || entry.startsWith(`node_modules${path.sep}`)) continue
    paths.push(path.join(prefix, entry))
  }
  return paths
}

async function polkitRule(): Promise<string> {
  const {polkitRule} = await import('../../packages/core/src/host/setup.js')
  return polkitRule('lago')
}

function pinnedChangelog(version: string): string {
  const date = new Date().toUTCString().replace(/^(\w+), (\d+) (\w+) (\d+).*$/, '$1 $3 $2 $4')
  return `* ${date} Lago maintainers <lago-devel@ovirt.org> - ${version}\n- Build of ${version} (LAGO_VERSION)\n`
}

async function collect(work: string, options: RpmBuildOptions, version: string, upstream: string[], changelog: string): Promise<RpmBuildResult> {
  const rpmDir = path.join(options.out, 'rpm', options.dist)
  const sourceDir = path.join(options.out, 'sources')
  await mkdir(rpmDir, {recursive: true})
  await mkdir(sourceDir, {recursive: true})
  const built = path.join(work, 'rpmbuild/RPMS/noarch')
  const rpms: string[] = []
  for (const name of (await readdir(built)).sort()) {
    await copyFile(path.join(built, name), path.join(rpmDir, name))
    rpms.push(path.join(rpmDir, name))
  }
  const srpms = path.join(work, 'rpmbuild/SRPMS')
  const sources: string[] = []
  for (const file of [...upstream, ...(await readdir(srpms)).map((n) => path.join(srpms, n))]) {
    await copyFile(file, path.join(sourceDir, path.basename(file)))
    sources.push(path.join(sourceDir, path.basename(file)))
  }
  await writeFile(path.join(options.out, 'ChangeLog'), changelog)
  await writeFile(path.join(options.out, 'version'), `${version}\n`)
  return {version, rpms, sources}
}

async function rpmBuildCli(argv: string[]): Promise<string> {
  const {values} = parseArgs({args: argv, options: {out: {type: 'string', default: path.join(REPO, 'dist')}, dist: {type: 'string'}, payload: {type: 'string'}}})
  const dist = values.dist ?? (await defaultDist())
  const result = await buildRpms({out: path.resolve(values.out), dist, payload: values.payload})
  return [...result.rpms, ...result.sources].map((f) => path.relative(process.cwd(), f)).join('\n')
}

/** rpm's own %{dist} on Fedora/EL hosts; el9 elsewhere (the RPMs are noarch JavaScript, the tag only names the repository). */
async function defaultDist(): Promise<string> {
  const {stdout} = await execa('rpm', ['--eval', '%{?dist}'], {reject: false})
  return stdout.trim().replace(/^\./, '') || 'el9'
}

if (import.meta.url === `file://${process.argv[1]}`) await main(rpmBuildCli, 'rpm')
