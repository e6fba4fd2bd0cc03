import assert from 'node:assert/strict'
import {mkdir, mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import type {AddressInfo} from 'node:net'
import ssh2 from 'ssh2'
import {generateKeyPair, isLagoError, LibvirtProvider, PrefixPaths, providerEnvironment, SshRefusedError, waitForSsh, withDiskSources, type PrefixState, type RunResult, type VmState} from '@lago/core'
import {Virsh} from '../../packages/core/src/providers/libvirt/virsh.js'
import {headerDomainXml, savedDomainXml} from '../../packages/core/src/providers/libvirt/memory-state.js'
import {networkXml} from '../../packages/core/src/providers/libvirt/xml.js'

/** A loopback SSH server that lets nobody in (as a guest without the prefix key in authorized_keys). */
async function refusingServer(): Promise<{port: number; close: () => void}> {
  const hostKey = (await generateKeyPair('host')).privateKey
  const server = new ssh2.Server({hostKeys: [hostKey]}, (client) => {
    client.on('authentication', (ctx) => ctx.reject(['publickey', 'password']))
    client.on('error', () => {})
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {port: (server.address() as AddressInfo).port, close: () => server.close()}
}

describe('readiness: "up but refusing us" is not "not up yet"', () => {
  it('gives up after the refusal window (long before the deadline), naming the user and what was refused', async () => {
    const server = await refusingServer()
    const started = Date.now()
    try {
      const target = {host: '127.0.0.1', port: server.port, user: 'root', privateKey: (await generateKeyPair('client')).privateKey, password: 'secret'}
      const error = await waitForSsh(target, {deadline: Date.now() + 60_000, refusalMs: 500}).then(
        () => assert.fail('the refusing server let us in'),
        (e: unknown) => e,
      )
      assert.ok(error instanceof SshRefusedError, String(error))
      assert.match(error.message, /answers but refuses user root: it rejected our public key and password/)
      assert.deepEqual(error.detail.refused, ['publickey', 'password'])
      assert.ok(Date.now() - started < 30_000)
    } finally {
      server.close()
    }
  })
})

describe('restoring a memory state onto moved disks', () => {
  const saved = `<domain type='qemu'>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='/p/.lago/images/vm0_root.qcow2' index='2'/>
      <backingStore type='file' index='3'>
        <format type='qcow2'/>
        <source file='/store/t:v1'/>
        <backingStore/>
      </backingStore>
      <target dev='vda' bus='virtio'/>
    </disk>
    <disk type='file' device='disk'>
      <source file='/p/.lago/seeds/vm0-cidata.iso'/>
      <target dev='vdb' bus='virtio'/>
      <readonly/>
    </disk>
  </devices>
</domain>`

  it('points each listed disk at its new file and drops the old backing chain; other disks stay as saved', () => {
    const xml = withDiskSources(saved, new Map([['vda', "/p/.lago/images/vm0_root.live-x&'y.qcow2"]]))
    assert.match(xml, /<source file='\/p\/\.lago\/images\/vm0_root\.live-x&amp;&apos;y\.qcow2'\/>/)
    assert.doesNotMatch(xml, /backingStore|t:v1|index=/)
    assert.match(xml, /<source file='\/p\/\.lago\/seeds\/vm0-cidata\.iso'\/>\s*<target dev='vdb'/)
  })
})

/** A virsh stand-in: answers each command of a `a ; echo MARK ; b` line as virsh does (the echo without a newline), failing the commands in `failing`. */
function fakeVirsh(outputs: Record<string, string>, options: {failing?: string[]; unreachable?: boolean} = {}) {
  const calls: string[][] = []
  const runner = async (_file: string, args: readonly string[]): Promise<RunResult> => {
    calls.push(args.slice(3))
    if (options.unreachable) return {exitCode: 1, stdout: '', stderr: 'error: failed to connect to the hypervisor'}
    const line = args.slice(3).join(' ')
    const marker = / ; echo (\S+) ; /.exec(line)?.[1]
    const commands = marker ? line.split(` ; echo ${marker} ; `) : [line]
    let stdout = ''
    let stderr = ''
    commands.forEach((command, i) => {
      if (options.failing?.includes(command)) stderr += `error: command '${command}' failed\n`
      else stdout += outputs[command] ?? ''
      if (i < commands.length - 1) stdout += marker
    })
    const failed = stderr !== ''
    // A lone failing command exits 1; in a batch virsh goes on and may exit 0.
    return {exitCode: failed && !marker ? 1 : 0, stdout: stdout.replace(/\n$/, ''), stderr: stderr.trim()}
  }
  return {calls, runner}
}

describe('virsh queries asked together go to libvirtd in one virsh', () => {
  const outputs = {'list --all': ' 1    dom-a   running\n 2    dom-b   shut off\n', 'net-list --name': 'net-a\nnet-b\n', nodememstats: 'total  : 100 KiB\nfree   : 50 KiB\n', uri: 'test:///x\n'}

  it('answers each query as a lone run would, from one process', async () => {
    const {calls, runner} = fakeVirsh(outputs)
    const virsh = new Virsh('test:///batch-one', runner)
    const [list, nets, memory] = await Promise.all([virsh.query(['list', '--all']), virsh.query(['net-list', '--name']), virsh.query(['nodememstats'])])
    assert.equal(calls.length, 1)
    assert.deepEqual(list, {exitCode: 0, stdout: ' 1    dom-a   running\n 2    dom-b   shut off', stderr: ''})
    assert.equal(nets.stdout, 'net-a\nnet-b')
    assert.equal(memory.stdout, 'total  : 100 KiB\nfree   : 50 KiB')
  })

  it('asks one by one when the batch reports an error: the failing query gets the error a lone run gives, the others their output', async () => {
    const {calls, runner} = fakeVirsh(outputs, {failing: ['nodememstats']})
    const virsh = new Virsh('test:///batch-error', runner)
    const [list, memory] = await Promise.allSettled([virsh.query(['list', '--all']), virsh.query(['nodememstats'])])
    assert.equal(calls.length, 3)
    assert.equal(list.status === 'fulfilled' && list.value.stdout, ' 1    dom-a   running\n 2    dom-b   shut off')
    assert.ok(memory.status === 'rejected' && isLagoError(memory.reason) && memory.reason.code === 'LIBVIRT', 'nodememstats fails as a lone run does')
    assert.match(memory.reason.message, /libvirt refused "virsh nodememstats": command 'nodememstats' failed/)
  })

  it('an unreachable libvirt fails every query with the one clear error, and ping then asks libvirt itself', async () => {
    const {calls, runner} = fakeVirsh(outputs, {unreachable: true})
    const virsh = new Virsh('test:///batch-down', runner)
    const results = await Promise.allSettled([virsh.query(['list', '--all']), virsh.query(['net-list', '--name'])])
    for (const result of results) assert.ok(result.status === 'rejected' && isLagoError(result.reason) && result.reason.code === 'LIBVIRT_UNREACHABLE')
    await assert.rejects(virsh.ping(), (error: unknown) => isLagoError(error) && error.code === 'LIBVIRT_UNREACHABLE')
    assert.deepEqual(calls.at(-1), ['uri'])
  })

  it('ping trusts a query that reached libvirtd moments ago (or is on its way), and asks libvirt when none did', async () => {
    const {calls, runner} = fakeVirsh(outputs)
    const virsh = new Virsh('test:///batch-ping', runner)
    await new Virsh('test:///batch-ping', runner).ping()
    assert.deepEqual(calls, [['uri']])
    const listing = virsh.query(['list', '--all'])
    await new Promise((resolve) => setImmediate(resolve))
    await virsh.ping()
    await listing
    assert.equal(calls.length, 2)
  })

  it('never joins anything but plain words (a path or a name runs alone)', async () => {
    const {calls, runner} = fakeVirsh({...outputs, 'dominfo a;b': ''})
    const virsh = new Virsh('test:///batch-words', runner)
    await Promise.all([virsh.query(['list', '--all']), virsh.query(['dominfo', 'a;b'])])
    assert.deepEqual(calls, [
      ['list', '--all'],
      ['dominfo', 'a;b'],
    ])
  })
})

describe('resuming reads the memory state ahead', () => {
  it('restoreVm uses the domain XML prepareRestore read (once), on the disks as they are now, and only for this VM', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'lago-restore-'))
    try {
      const paths = new PrefixPaths(dir)
      const vm = {name: 'vm0', libvirtName: 'lago-x-vm0', nics: [], disks: [{name: 'root', dev: 'vda', format: 'qcow2', path: 'images/vm0_root.qcow2'}]} as unknown as VmState
      const provider = new LibvirtProvider(
        {uri: 'test:///default', domain_type: 'qemu', qemu_user: '', emulator: ''},
        providerEnvironment(paths, {id: 'x', vms: [vm], nets: []} as unknown as PrefixState),
      )
      const calls: string[] = []
      let domainName = 'lago-x-vm0'
      provider.virsh.run = async (args) => {
        calls.push(args[0])
        return {
          exitCode: 0,
          stdout: args[0] === 'save-image-dumpxml' ? `<domain><name>${domainName}</name><devices><disk><source file='/old/vm0_root.qcow2'/><target dev='vda'/></disk></devices></domain>` : '',
          stderr: '',
        }
      }
      provider.prepareRestore('/p/vm0.save')
      provider.prepareRestore('/p/vm0.save')
      await provider.restoreVm(vm, '/p/vm0.save')
      assert.deepEqual(calls, ['save-image-dumpxml', 'restore'])
      assert.match(await readFile(path.join(paths.stateDir, 'libvirt', 'restore-vm0.xml'), 'utf8'), new RegExp(`<source file='${paths.resolve('images/vm0_root.qcow2')}'/>`))
      // Taken once: a later restore of the same file reads it again.
      await provider.restoreVm(vm, '/p/vm0.save')
      assert.deepEqual(calls, ['save-image-dumpxml', 'restore', 'save-image-dumpxml', 'restore'])
      // The memory of another domain (a file moved or made elsewhere) is never restored: it would run unrecorded.
      domainName = 'lago-other-vm0'
      await assert.rejects(provider.restoreVm(vm, '/p/vm0.save'), /\/p\/vm0\.save holds the memory state of domain "lago-other-vm0", not of lago-x-vm0/)
      assert.deepEqual(calls.slice(4), ['save-image-dumpxml'])
    } finally {
      await rm(dir, {recursive: true, force: true})
    }
  })
})

describe("a save image's domain XML, read from its header", () => {
  const xml = "<domain type='qemu'>\n  <name>lago-x-vm0</name>\n</domain>\n"
  /** A header as libvirt's qemu driver writes it: magic, version, data_len, was_running, compressed, cookieOffset, 14 unused. */
  const image = (fields: {magic?: string; version?: number; dataLength?: number; cookieOffset?: number; data?: Buffer; bigEndian?: boolean} = {}) => {
    const data = fields.data ?? Buffer.concat([Buffer.from(xml), Buffer.alloc(64)])
    const header = Buffer.alloc(92)
    header.write(fields.magic ?? 'LibvirtQemudSave', 0, 'latin1')
    const put = (value: number, offset: number) => (fields.bigEndian ? header.writeUInt32BE(value, offset) : header.writeUInt32LE(value, offset))
    put(fields.version ?? 2, 16)
    put(fields.dataLength ?? data.length, 20)
    put(1, 24)
    put(fields.cookieOffset ?? 0, 32)
    return Buffer.concat([header, data, Buffer.alloc(4096, 0x42)])
  }

  it('takes the XML from a version-2 header without virsh; any other header (or a hostile one) goes to libvirt', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'lago-save-header-'))
    try {
      const file = path.join(dir, 'vm0.save')
      const cases: [string, Buffer, string | undefined][] = [
        ['libvirt 9 image', image(), xml],
        ['with a cookie after the XML', image({cookieOffset: xml.length + 1, data: Buffer.concat([Buffer.from(`${xml}\0<cookie/>`), Buffer.alloc(8)])}), xml],
        ['partial (an interrupted save)', image({magic: 'LibvirtQemudPart'}), undefined],
        ['another version', image({version: 3}), undefined],
        ['written big-endian', image({bigEndian: true}), undefined],
        ['a length past the end of the file', image({dataLength: 1 << 20}), undefined],
        ['a length of 4 GiB', image({dataLength: 0xffffffff}), undefined],
        ['no NUL ending the XML', image({data: Buffer.alloc(200, 0x41)}), undefined],
        ['not a domain', image({data: Buffer.from('<network/>\0')}), undefined],
        ['a cookie offset past the data', image({cookieOffset: 1 << 16}), undefined],
        ['shorter than a header', Buffer.from('LibvirtQemudSave'), undefined],
      ]
      for (const [name, content, expected] of cases) {
        await writeFile(file, content)
        assert.equal(await headerDomainXml(file), expected, name)
        const asked: string[][] = []
        const virsh = {run: async (args: string[]) => (asked.push(args), {exitCode: 0, stdout: '<domain>from libvirt</domain>', stderr: ''})} as unknown as Virsh
        assert.equal(await savedDomainXml(virsh, file, true), expected ?? '<domain>from libvirt</domain>', name)
        assert.deepEqual(asked, expected === undefined ? [['save-image-dumpxml', file]] : [], name)
        // A file on another host (a remote hypervisor's) is libvirt's to read.
        asked.length = 0
        await savedDomainXml(virsh, file, false)
        assert.deepEqual(asked, [['save-image-dumpxml', file]], name)
      }
      await rm(file)
      await assert.rejects(headerDomainXml(file), {code: 'ENOENT'})
      // Missing: libvirt is asked (and says so). Unreadable: the error names the file; libvirt is not asked.
      const asked: string[][] = []
      const virsh = {run: async (args: string[]) => (asked.push(args), {exitCode: 0, stdout: '<domain>from libvirt</domain>', stderr: ''})} as unknown as Virsh
      assert.equal(await savedDomainXml(virsh, file, true), '<domain>from libvirt</domain>')
      await mkdir(file)
      await assert.rejects(savedDomainXml(virsh, file, true), (error: Error) => error.message === `Cannot read ${file} (EISDIR).`)
      assert.deepEqual(asked, [['save-image-dumpxml', file]])
    } finally {
      await rm(dir, {recursive: true, force: true})
    }
  })
})

describe('the libvirt XML Lago writes (without an XML library on the start path)', () => {
  it('escapes attribute values and text, declares a namespace once, prints empty elements closed', async () => {
    const xml = await networkXml({
      libvirtName: 'n&1',
      bridge: 'br0',
      mode: 'isolated',
      gateway: '10.0.0.1',
      netmask: '255.255.255.0',
      hosts: [],
      dns: {domain: 'a<b', records: [{ip: '10.0.0.2', names: ['x&y']}]},
      owner: {prefixId: 'id', prefixPath: `/p/"q'<x>&`, name: 'lago'},
    })
    assert.equal(
      xml,
      [
        '<?xml version="1.0"?>',
        '<network>',
        '  <name>n&amp;1</name>',
        '  <metadata>',
        `    <lago:owner xmlns:lago="https://lago-project.github.io/xmlns/lago/1" prefix-id="id" prefix-path="/p/&quot;q'&lt;x&gt;&amp;" name="lago"/>`,
        '  </metadata>',
        '  <bridge name="br0" stp="off" delay="0"/>',
        '  <domain name="a&lt;b" localOnly="yes"/>',
        '  <dns>',
        '    <host ip="10.0.0.2">',
        '      <hostname>x&amp;y</hostname>',
        '    </host>',
        '  </dns>',
        '  <ip address="10.0.0.1" netmask="255.255.255.0"/>',
        '</network>',
      ].join('\n'),
    )
  })
})
