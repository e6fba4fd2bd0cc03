import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {closeSync, constants, openSync, readSync, writeSync} from 'node:fs'
import {lstat, mkdir, mkdtemp, readFile, rm} from 'node:fs/promises'
import net, {type AddressInfo} from 'node:net'
import os from 'node:os'
import path from 'node:path'
import {LagoError, LibvirtProvider, PrefixPaths, providerEnvironment, sshAnswers, type PrefixState, type VmState} from '@lago/core'
import {ARM_WAITER, armOutcome, RESUME_PORT} from '../../packages/core/src/prefix/clock-port.js'
import {ensureResumeFifos, setClockThroughFifos, withResumePortPath} from '../../packages/core/src/providers/libvirt/resume-port.js'
import {domainXml} from '../../packages/core/src/providers/libvirt/xml.js'

/** qemu's side of the pipe chardev: both FIFOs held read-write (as qemu opens them); `answer` sees each request line. */
function fakeQemu(base: string, answer: (line: string) => string | undefined): {close: () => void} {
  const inFd = openSync(`${base}.in`, constants.O_RDWR | constants.O_NONBLOCK)
  const outFd = openSync(`${base}.out`, constants.O_RDWR | constants.O_NONBLOCK)
  const buffer = Buffer.alloc(4096)
  const timer = setInterval(() => {
    let n = 0
    try {
      n = readSync(inFd, buffer)
    } catch {
      return // EAGAIN: nothing written yet
    }
    for (const line of buffer.toString('latin1', 0, n).split('\n').filter(Boolean)) {
      const reply = answer(line)
      if (reply !== undefined) writeSync(outFd, reply)
    }
  }, 5)
  return {
    close: () => {
      clearInterval(timer)
      closeSync(inFd)
      closeSync(outFd)
    },
  }
}

describe('the resume port: a resumed guest gets its clock without a login', () => {
  let dir: string
  let base: string
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'lago-port-'))
    base = path.join(dir, 'ports', 'vm0.resume')
  })
  afterEach(async () => {
    await rm(dir, {recursive: true, force: true})
  })

  it('makes the two FIFOs qemu opens, keeps them when present, and replaces anything else found there', async () => {
    await ensureResumeFifos(base)
    assert.ok((await lstat(`${base}.in`)).isFIFO())
    assert.ok((await lstat(`${base}.out`)).isFIFO())
    assert.equal((await lstat(`${base}.in`)).mode & 0o777, 0o600)
    const before = (await lstat(`${base}.in`)).ino
    await rm(`${base}.out`)
    await mkdir(`${base}.out`)
    await ensureResumeFifos(base)
    assert.equal((await lstat(`${base}.in`)).ino, before, 'a FIFO already there is kept')
    assert.ok((await lstat(`${base}.out`)).isFIFO(), 'a directory in its place is replaced')
  })

  it('asks with a nonce and the time; only a reply repeating the nonce counts', async () => {
    await ensureResumeFifos(base)
    const requests: string[] = []
    const qemu = fakeQemu(base, (line) => {
      requests.push(line)
      return `stale-reply\n${line.split(' ')[0]}\n`
    })
    try {
      assert.equal(await setClockThroughFifos(base, 5_000), true)
      assert.equal(requests.length, 1)
      const [nonce, epoch] = requests[0].split(' ')
      assert.match(nonce, /^[0-9a-f]{16}$/)
      assert.ok(Math.abs(Number(epoch) - Date.now() / 1000) < 2, requests[0])
    } finally {
      qemu.close()
    }
  })

  it('no waiter (silence), a guest that floods or answers wrongly, or no qemu: false, within the time given', async () => {
    await ensureResumeFifos(base)
    for (const answer of [() => undefined, () => 'x'.repeat(10_000), () => 'wrong\n']) {
      const qemu = fakeQemu(base, answer)
      try {
        const started = Date.now()
        assert.equal(await setClockThroughFifos(base, 300), false)
        assert.ok(Date.now() - started < 2_000)
      } finally {
        qemu.close()
      }
    }
    // No qemu holds the FIFOs: the request cannot be written, and that is known at once.
    const started = Date.now()
    assert.equal(await setClockThroughFifos(base, 60_000), false)
    assert.ok(Date.now() - started < 1_000)
    assert.equal(await setClockThroughFifos(path.join(dir, 'missing'), 60_000), false)
  })

  it('an aborted start stops waiting for the waiter', async () => {
    await ensureResumeFifos(base)
    const qemu = fakeQemu(base, () => undefined)
    try {
      const abort = new AbortController()
      setTimeout(() => abort.abort(), 100)
      assert.equal(await setClockThroughFifos(base, 60_000, abort.signal), false)
    } finally {
      qemu.close()
    }
  })

  it('the domain has the port on a pipe; a restored domain reads this prefix’s FIFOs, other channels as saved', async () => {
    const xml = await domainXml({
      libvirtName: 'lago-x-vm0',
      type: 'qemu',
      memoryMiB: 256,
      vcpu: 1,
      disks: [],
      nics: [],
      consoleLog: '/p/.lago/logs/vm0.console.log',
      owner: {prefixId: 'x', prefixPath: '/p', name: 'vm0'},
      resumePort: "/p/.lago/ports/vm0's.resume",
    })
    assert.match(xml, new RegExp(`<channel type="pipe">\\s*<source path="/p/\\.lago/ports/vm0's\\.resume"/>\\s*<target type="virtio" name="${RESUME_PORT}"/>\\s*</channel>`))
    const saved = `<domain><devices><channel type='pipe'>\n  <source path='/old/.lago/ports/vm0.resume'/>\n  <target type='virtio' name='${RESUME_PORT}'/>\n</channel><channel type='unix'><source mode='bind' path='/var/lib/agent'/><target type='virtio' name='org.qemu.guest_agent.0'/></channel></devices></domain>`
    const moved = withResumePortPath(saved, '/new/.lago/ports/vm0.resume')
    assert.match(moved, /<source path='\/new\/\.lago\/ports\/vm0\.resume'\/>/)
    assert.match(moved, /<source mode='bind' path='\/var\/lib\/agent'\/>/)
    assert.doesNotMatch(moved, /\/old\//)
  })

  it('restoreVm gives a saved domain with the port its FIFOs; one saved without it is restored as it was', async () => {
    const paths = new PrefixPaths(dir)
    const vm = {name: 'vm0', libvirtName: 'lago-x-vm0', nics: [], disks: []} as unknown as VmState
    const provider = new LibvirtProvider(
      {uri: 'test:///default', domain_type: 'qemu', qemu_user: '', emulator: ''},
      providerEnvironment(paths, {id: 'x', vms: [vm], nets: []} as unknown as PrefixState),
    )
    let channel = `<channel type='pipe'><source path='/elsewhere/vm0.resume'/><target type='virtio' name='${RESUME_PORT}'/></channel>`
    provider.virsh.run = async (args) => ({exitCode: 0, stdout: args[0] === 'save-image-dumpxml' ? `<domain><name>lago-x-vm0</name><devices>${channel}</devices></domain>` : '', stderr: ''})
    await provider.restoreVm(vm, '/p/vm0.save')
    const fifo = path.join(paths.stateDir, 'ports', 'vm0.resume')
    assert.ok((await lstat(`${fifo}.in`)).isFIFO())
    assert.match(await readFile(path.join(paths.stateDir, 'libvirt', 'restore-vm0.xml'), 'utf8'), new RegExp(`<source path='${fifo}'/>`))
    channel = ''
    await rm(path.join(paths.stateDir, 'ports'), {recursive: true})
    await provider.restoreVm(vm, '/p/vm0.save')
    await assert.rejects(lstat(`${fifo}.in`), {code: 'ENOENT'})
  })
})

describe('the guest side: arming the waiter (POSIX sh)', () => {
  it('reports why it cannot arm, in words the host reads', () => {
    assert.equal(armOutcome('lago-resume-clock: armed\n'), 'armed')
    assert.equal(armOutcome('noise\nlago-resume-clock: busy\n'), 'busy')
    assert.equal(armOutcome(''), 'no answer')
  })

  it('arms nothing where there is no port, under sh as busybox, dash or bash run it', async () => {
    // This host has no such virtio port: the script must say so and leave nothing running.
    const result = await new Promise<{code: number | null; out: string}>((resolve) => {
      const child = spawn('sh', ['-c', ARM_WAITER], {stdio: ['ignore', 'pipe', 'pipe']})
      let out = ''
      child.stdout.on('data', (d: Buffer) => (out += d.toString()))
      child.on('close', (code) => resolve({code, out}))
    })
    assert.equal(result.code, 0)
    assert.match(armOutcome(result.out), process.getuid?.() === 0 ? /^no port$/ : /^not root$/)
  })
})

describe('an SSH server answers: its identification line, no login', () => {
  async function server(greeting: (socket: net.Socket) => void): Promise<{port: number; close: () => void}> {
    const s = net.createServer(greeting)
    await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))
    return {port: (s.address() as AddressInfo).port, close: () => s.close()}
  }

  it('true for "SSH-2.0-" (after other lines), false for anything else, a closed port or silence', async () => {
    const cases: [(socket: net.Socket) => void, boolean][] = [
      [(s) => s.write('SSH-2.0-dropbear_2022.83\r\n'), true],
      [(s) => s.write('welcome\r\nSSH-2.0-OpenSSH_9.2\r\n'), true],
      [(s) => s.end('HTTP/1.1 400 Bad Request\r\n\r\n'), false],
      [(s) => s.write('x'.repeat(20_000)), false],
      [() => undefined, false],
    ]
    for (const [greet, expected] of cases) {
      const s = await server(greet)
      try {
        assert.equal(await sshAnswers({host: '127.0.0.1', port: s.port}, 300), expected)
      } finally {
        s.close()
      }
    }
    const closed = await server(() => undefined)
    closed.close()
    assert.equal(await sshAnswers({host: '127.0.0.1', port: closed.port}, 300), false)
  })

  it('speaks through a provider stream when there is one', async () => {
    const s = await server((socket) => socket.write('SSH-2.0-x\r\n'))
    try {
      assert.equal(await sshAnswers({host: 'vm0', port: 22, sock: async () => net.connect({host: '127.0.0.1', port: s.port})}, 1_000), true)
    } finally {
      s.close()
    }
  })
})

describe('a host where qemu cannot open the resume port', () => {
  it('starts the VM without one (saying why) rather than failing it, and gives later VMs none', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'lago-port-'))
    try {
      const paths = new PrefixPaths(dir)
      const vms = ['vm0', 'vm1'].map((name) => ({name, libvirtName: `lago-x-${name}`, nics: [], disks: [], memory: 256, vcpu: 1}) as unknown as VmState)
      const provider = new LibvirtProvider({uri: 'test:///default', domain_type: 'qemu', qemu_user: '', emulator: ''}, providerEnvironment(paths, {id: 'x', vms, nets: []} as unknown as PrefixState))
      const created: string[] = []
      provider.virsh.createFromXml = async (_verb: string, file: string) => {
        const xml = await readFile(file, 'utf8')
        const port = /<source path="([^"]+)"/.exec(xml)?.[1]
        if (port) throw new LagoError('LIBVIRT', `qemu-system-x86_64: -chardev pipe,id=charchannel0,path=${port}: Could not open '${port}': Permission denied`)
        created.push(path.basename(file))
      }
      await provider.startVm(vms[0], undefined, 'qemu')
      await provider.startVm(vms[1], undefined, 'qemu')
      assert.deepEqual(created, ['vm-vm0.xml', 'vm-vm1.xml'])
      assert.doesNotMatch(await readFile(path.join(paths.stateDir, 'libvirt', 'vm-vm1.xml'), 'utf8'), /resume/)
    } finally {
      await rm(dir, {recursive: true, force: true})
    }
  })
})
