import assert from 'node:assert/strict'
import path from 'node:path'
import {execa} from 'execa'
import {ONE_VM_INIT_FILE, Sandbox} from '../lib/harness.js'

/** The interactive shell, driven through a real terminal (tmux): PTY, size, resize, exit code. */
describe('interactive shell in a terminal', function () {
  let sandbox: Sandbox
  let prefix: string
  const session = `lago-pty-${process.pid}`
  const tmux = (...args: string[]) => execa('tmux', args, {reject: false})
  const screen = async () => String((await tmux('capture-pane', '-p', '-t', session)).stdout)
  async function waitForScreen(pattern: RegExp, timeoutMs = 60_000): Promise<string> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const text = await screen()
      if (pattern.test(text)) return text
      if (Date.now() > deadline) throw new Error(`screen never matched ${pattern}:\n${text}`)
      await new Promise((r) => setTimeout(r, 200))
    }
  }

  before(async () => {
    sandbox = await Sandbox.create('pty')
    prefix = path.join(sandbox.dir, 'env')
    const repo = await sandbox.templateRepo()
    const initFile = await sandbox.writeInitFile('LagoInitFile', ONE_VM_INIT_FILE)
    assert.equal((await sandbox.lago(['init', prefix, initFile, '--template-repo-path', repo])).exitCode, 0)
    const start = await sandbox.lago(['start'], {cwd: prefix})
    assert.equal(start.exitCode, 0, String(start.all))
  })

  after(async () => {
    await tmux('kill-session', '-t', session)
    await sandbox.lago(['destroy', '--yes'], {cwd: prefix})
    await sandbox.remove()
  })

  it('gets a PTY of the terminal size, follows a resize, and exits with the shell exit code', async () => {
    const env = Object.entries(sandbox.env()).map(([k, v]) => `${k}=${v}`)
    const command = `cd '${prefix}' && env ${env.map((e) => `'${e}'`).join(' ')} ${sandbox.lagoCommandLine(['shell', 'vm0'])}; echo "lago-exit=$?"; sleep 600`
    const started = await tmux('new-session', '-d', '-s', session, '-x', '100', '-y', '30', command)
    assert.equal(started.exitCode, 0, String(started.stderr))
    await waitForScreen(/#\s*$/m)
    await tmux('send-keys', '-t', session, 'stty size; tty; hostname', 'Enter')
    await waitForScreen(/^30 100$/m)
    assert.match(await waitForScreen(/^vm0$/m), /^\/dev\/pts\/\d+$/m)
    await tmux('resize-window', '-t', session, '-x', '120', '-y', '40')
    await tmux('send-keys', '-t', session, 'clear; stty size', 'Enter')
    await waitForScreen(/^40 120$/m)
    await tmux('send-keys', '-t', session, 'exit 6', 'Enter')
    await waitForScreen(/^lago-exit=6$/m)
  })
})
