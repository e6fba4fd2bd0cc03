// Splits one production node_modules tree (npm ci --omit=dev of the workspace) between the
// RPMs: each installed package belongs to the first RPM (in dependency order: core, CLI,
// plugin) whose package reaches it the way Node resolves modules. An RPM requires the ones
// before it, so everything a package reaches is installed with it.
import {existsSync, readFileSync, realpathSync} from 'node:fs'
import path from 'node:path'
import {ScriptError} from './cli.js'

export interface InstalledPackage {
  name: string
  version: string
  /** Real directory in the staged tree. */
  dir: string
  /** Where it is installed, relative to the Lago root (/usr/lib/lago): node_modules/NAME[/node_modules/NAME...]. */
  installPath: string
}

interface PackageJson {
  name: string
  version: string
  dependencies?: Record<string, string>
  optionalDependencies?: Record<string, string>
  peerDependencies?: Record<string, string>
  peerDependenciesMeta?: Record<string, {optional?: boolean}>
}

export interface Workspace {
  name: string
  /** Its directory in the staged tree (packages/DIR). */
  dir: string
}

export class BundleError extends ScriptError {}

/** The installed packages each workspace brings that no earlier workspace brings (workspaces themselves excluded). */
export function splitBundles(tree: string, workspaces: Workspace[]): Map<string, InstalledPackage[]> {
  const workspaceDirs = new Map(workspaces.map((w) => [realpathSync(w.dir), w.name]))
  const owner = new Map<string, string>()
  const bundles = new Map<string, InstalledPackage[]>()
  for (const workspace of workspaces) {
    const owned: InstalledPackage[] = []
    for (const dir of reachableFrom(tree, realpathSync(workspace.dir))) {
      if (workspaceDirs.has(dir) || owner.has(dir)) continue
      owner.set(dir, workspace.name)
      const pjson = readPackageJson(dir)
      owned.push({name: pjson.name, version: pjson.version, dir, installPath: installPath(tree, dir, workspaceDirs)})
    }
    bundles.set(
      workspace.name,
      owned.sort((a, b) => a.installPath.localeCompare(b.installPath)),
    )
  }
  return bundles
}

/** Package directories reachable from `start` through dependencies, resolved as Node does. */
function reachableFrom(tree: string, start: string): Set<string> {
  const seen = new Set<string>([start])
  const queue = [start]
  while (queue.length > 0) {
    const dir = queue.shift()!
    const pjson = readPackageJson(dir)
    const optional = new Set([
      ...Object.keys(pjson.optionalDependencies ?? {}),
      ...Object.entries(pjson.peerDependenciesMeta ?? {})
        .filter(([, m]) => m.optional)
        .map(([n]) => n),
    ])
    const wanted = new Set([...Object.keys(pjson.dependencies ?? {}), ...Object.keys(pjson.optionalDependencies ?? {}), ...Object.keys(pjson.peerDependencies ?? {})])
    for (const name of wanted) {
      const found = resolvePackage(tree, dir, name)
      if (!found) {
        if (optional.has(name)) continue
        throw new BundleError(`${pjson.name} needs ${name}, which is not installed under ${tree}`)
      }
      if (!seen.has(found)) {
        seen.add(found)
        queue.push(found)
      }
    }
  }
  return seen
}

function resolvePackage(tree: string, from: string, name: string): string | undefined {
  for (let dir = from; dir.startsWith(tree); dir = path.dirname(dir)) {
    if (path.basename(dir) === 'node_modules') continue
    const candidate = path.join(dir, 'node_modules', name)
    if (existsSync(path.join(candidate, 'package.json'))) return realpathSync(candidate)
  }
  return undefined
}

function installPath(tree: string, dir: string, workspaceDirs: Map<string, string>): string {
  for (const [workspaceDir, name] of workspaceDirs) {
    if (dir.startsWith(workspaceDir + path.sep)) return path.join('node_modules', name, path.relative(workspaceDir, dir))
  }
  const relative = path.relative(tree, dir)
  if (!relative.startsWith('node_modules' + path.sep)) throw new BundleError(`${dir} is outside the staged node_modules`)
  return relative
}

function readPackageJson(dir: string): PackageJson {
  return JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as PackageJson
}

/** `Provides: bundled(npm(NAME)) = VERSION` lines (RPM versions cannot hold "-": prereleases use "~"). */
export function bundledProvides(packages: InstalledPackage[]): string[] {
  const lines = packages.map((p) => `Provides:       bundled(npm(${p.name})) = ${p.version.replaceAll('-', '~')}`)
  return [...new Set(lines)].sort()
}

/**
 * %files entries for a bundle: each top-level package directory (nested node_modules go with
 * the package they are nested in), and the scope directories they need.
 */
export function bundleFileEntries(packages: InstalledPackage[], modulesMacro: string): string[] {
  const topLevel = packages.map((p) => p.installPath).filter((p) => !p.slice('node_modules/'.length).includes('/node_modules/'))
  const scopes = new Set(
    topLevel
      .map((p) => p.split('/'))
      .filter((parts) => parts[1].startsWith('@'))
      .map((parts) => `%dir ${modulesMacro}/${parts[1]}`),
  )
  return [...[...scopes].sort(), ...topLevel.map((p) => `${modulesMacro}/${p.slice('node_modules/'.length)}`)]
}
