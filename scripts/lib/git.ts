import {execa} from 'execa'

/** Runs git in `repo` with a fixed locale (dates and messages are parsed). */
export async function git(repo: string, args: string[]): Promise<string> {
  const {stdout} = await execa('git', args, {cwd: repo, env: {LC_ALL: 'C', TZ: 'UTC'}})
  return stdout
}

export async function isGitRepo(dir: string): Promise<boolean> {
  const result = await execa('git', ['rev-parse', '--is-inside-work-tree'], {cwd: dir, reject: false})
  return result.exitCode === 0 && result.stdout.trim() === 'true'
}

export interface Commit {
  hash: string
  author: string
  /** `Wed Nov 25 2026`: the RPM changelog's date format. */
  date: string
  subject: string
  body: string
  /** X.Y tags on this commit. */
  tags: string[]
}

const FIELD = '\x1f'
const RECORD = '\x1e'

/** The first-parent history of HEAD, oldest first, with the X.Y tags of each commit. */
export async function firstParentHistory(repo: string): Promise<Commit[]> {
  const tags = await releaseTagsByCommit(repo)
  const log = await git(repo, ['log', '--first-parent', '--reverse', '--date=format:%a %b %d %Y', `--format=%H${FIELD}%an <%ae>${FIELD}%ad${FIELD}%s${FIELD}%b${RECORD}`])
  return log
    .split(RECORD)
    .map((record) => record.replace(/^\n/, ''))
    .filter((record) => record.length > 0)
    .map((record) => {
      const [hash, author, date, subject, body] = record.split(FIELD)
      return {hash, author, date, subject, body: body ?? '', tags: tags.get(hash) ?? []}
    })
}

/** Tags named X.Y (the only ones that set versions), by the commit they point at. */
async function releaseTagsByCommit(repo: string): Promise<Map<string, string[]>> {
  const refs = await git(repo, ['for-each-ref', 'refs/tags', '--format=%(refname:short) %(objectname) %(*objectname)'])
  const byCommit = new Map<string, string[]>()
  for (const line of refs.split('\n').filter(Boolean)) {
    const [name, object, peeled] = line.split(' ')
    if (!RELEASE_TAG.test(name)) continue
    const commit = peeled || object
    byCommit.set(commit, [...(byCommit.get(commit) ?? []), name])
  }
  return byCommit
}

export const RELEASE_TAG = /^\d+\.\d+$/

export async function isShallow(repo: string): Promise<boolean> {
  return (await git(repo, ['rev-parse', '--is-shallow-repository'])).trim() === 'true'
}
