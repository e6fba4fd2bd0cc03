import {execa} from 'execa'
import {writeFile} from 'node:fs/promises'
import path from 'node:path'

/** A throwaway git repository for version and changelog tests. */
export class GitRepo {
  private constructor(readonly dir: string) {}

  static async create(dir: string): Promise<GitRepo> {
    const repo = new GitRepo(dir)
    await repo.git(['init', '-q', '-b', 'master'])
    await repo.git(['config', 'user.name', 'Jane Doe'])
    await repo.git(['config', 'user.email', 'jane@example.org'])
    await repo.git(['config', 'commit.gpgsign', 'false'])
    return repo
  }

  git(args: string[]): Promise<string> {
    return execa('git', args, {cwd: this.dir, env: {GIT_COMMITTER_DATE: '2026-11-25T12:00:00Z', GIT_AUTHOR_DATE: '2026-11-25T12:00:00Z'}}).then((r) => r.stdout)
  }

  /** An empty commit; `body` carries pseudo-headers such as `Sem-Ver: api-breaking`. */
  async commit(subject: string, body?: string): Promise<string> {
    await this.git(['commit', '-q', '--allow-empty', '-m', subject, ...(body ? ['-m', body] : [])])
    return (await this.git(['rev-parse', 'HEAD'])).trim()
  }

  async commits(count: number, subject = 'change'): Promise<void> {
    for (let i = 1; i <= count; i++) await this.commit(`${subject} ${i}`)
  }

  async tag(name: string, annotated = false): Promise<void> {
    await this.git(annotated ? ['tag', '-a', '-m', `release ${name}`, name] : ['tag', name])
  }

  async writeFile(name: string, content: string): Promise<void> {
    await writeFile(path.join(this.dir, name), content)
    await this.git(['add', name])
  }
}
