import assert from 'node:assert/strict'
import {mkdir, readdir, writeFile} from 'node:fs/promises'
import path from 'node:path'
import {assertCliRefusal, HostileWorld, lagoCli, pool, type CliOutcome} from '../lib/hostile.js'

/** One VM on one net; `vm` adds lines to the VM (4 spaces in), `disks` more disks, `nets` replaces the nets. */
function initFile(options: {vm?: string; disks?: string; nets?: string; top?: string} = {}): string {
  return `${options.top ?? ''}domains:
  vm0:
${options.vm ?? ''}
    nics: [{net: lago}]
    disks:
      - {type: template, template_name: tiny}
${options.disks ?? ''}
${options.nets ?? 'nets: {lago: {}}'}
`
}

interface InitCase {
  name: string
  /** The init file's text, or a function making the case's files (returns the init file's path). */
  text?: string
  make?: (dir: string) => Promise<string>
  /** Matched against the "Error:" line (FILE stands for the init file's path). */
  message: RegExp
  exit?: number
  /** Prefix path to use instead of the case's own. */
  prefix?: (dir: string) => string
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** The hostile init files: each must be refused at init with one clear line and exit 2, creating nothing. */
const CASES: InitCase[] = [
  {name: 'memory of 1e12 MiB', text: initFile({vm: '    memory: 1000000000000'}), message: /domains\.vm0\.memory: 1000000000000 MiB is out of range; give 16 MiB to 4194304 MiB/},
  {name: 'memory of 1e300', text: initFile({vm: '    memory: 1e300'}), message: /domains\.vm0\.memory: .* is out of range/},
  {name: 'memory "99999T"', text: initFile({vm: '    memory: 99999T'}), message: /domains\.vm0\.memory: .* MiB is out of range/},
  {name: 'memory of 8 MiB', text: initFile({vm: '    memory: 8'}), message: /domains\.vm0\.memory: 8 MiB is out of range/},
  {name: 'memory as a list', text: initFile({vm: '    memory: [1, 2]'}), message: /domains\.vm0\.memory/},
  {name: 'vcpu 100000', text: initFile({vm: '    vcpu: 100000'}), message: /domains\.vm0\.vcpu: must be <= 256/},
  {name: 'vcpu 0', text: initFile({vm: '    vcpu: 0'}), message: /domains\.vm0\.vcpu: must be >= 1/},
  {name: 'empty disk of 1e300 bytes', text: initFile({disks: '      - {type: empty, size: 1e300}'}), message: /domains\.vm0\.disks\[1\]\.size: .* is out of range; give 1\.0 MiB to 64\.0 TiB/},
  {name: 'empty disk of "100000T"', text: initFile({disks: '      - {type: empty, size: 100000T}'}), message: /domains\.vm0\.disks\[1\]\.size: .* is out of range/},
  {name: 'empty disk of 10 bytes', text: initFile({disks: '      - {type: empty, size: 10}'}), message: /domains\.vm0\.disks\[1\]\.size: 10 B is out of range/},
  {name: 'boot time 1e300 s', text: initFile({vm: '    boot_time_sec: 1e300'}), message: /domains\.vm0\.boot_time_sec: must be <= 604800/},
  {name: 'boot time -1 s', text: initFile({vm: '    boot_time_sec: -1'}), message: /domains\.vm0\.boot_time_sec: must be >= 1/},
  {name: 'dhcp start after end', text: initFile({nets: 'nets: {lago: {dhcp: {start: 200, end: 100}}}'}), message: /nets\.lago\.dhcp: start \.200 is after end \.100/},
  {
    name: 'dhcp range over the gateway',
    text: initFile({nets: 'nets: {lago: {gw: 10.9.9.50, dhcp: {start: 40, end: 60}}}'}),
    message: /nets\.lago\.dhcp: the range \.40-\.60 includes the gateway \.50/,
  },
  {name: 'dhcp end past .254', text: initFile({nets: 'nets: {lago: {dhcp: {start: 2, end: 300}}}'}), message: /nets\.lago\.dhcp\.end: must be <= 254/},
  {
    name: 'two nets with one fixed /24',
    text: initFile({nets: 'nets: {lago: {gw: 10.9.9.1, management: true}, other: {gw: 10.9.9.2}}'}),
    message: /nets\.other\.gw: "10\.9\.9\.2" is in the same \/24 as net lago/,
  },
  {name: 'a gateway ending in .255', text: initFile({nets: 'nets: {lago: {gw: 10.9.9.255}}'}), message: /nets\.lago\.gw: "10\.9\.9\.255" ends in \.255/},
  {name: 'a NUL in an artifact', text: initFile({vm: '    artifacts: ["/var/log/\\0x"]'}), message: /domains\.vm0\.artifacts\[0\]: contains the control character "\\u0000"/},
  {
    name: 'a newline in an artifact (guestfish)',
    text: initFile({vm: '    artifacts: ["/var/log/x\\n!touch /tmp/pwned"]'}),
    message: /domains\.vm0\.artifacts\[0\]: contains the control character "\\n"/,
  },
  {name: 'a newline in a disk path', text: initFile({disks: '      - {type: file, path: "/tmp/a\\nb.qcow2"}'}), message: /domains\.vm0\.disks\[1\]\.path: contains the control character "\\n"/},
  {name: 'a NUL in a deploy script', text: initFile({vm: '    deploy-scripts: ["a\\0b.sh"]'}), message: /domains\.vm0\.deploy-scripts\[0\]: contains the control character "\\u0000"/},
  {name: 'an escape character in cpu_model (XML)', text: initFile({vm: '    cpu_model: "host\\e[31m"'}), message: /domains\.vm0\.cpu_model: contains the control character "\\u001b"/},
  {name: 'a newline in the ssh password', text: initFile({vm: '    ssh-password: "a\\nb"'}), message: /domains\.vm0\.ssh-password: contains the control character "\\n"/},
  {
    name: 'a newline in a net name',
    text: 'domains:\n  vm0: {nics: [{net: lago}], disks: [{type: template, template_name: tiny}]}\nnets: {"la\\ngo": {}}\n',
    message: /nets\["la\\ngo"\]: the name contains the control character "\\n"/,
  },
  {
    name: 'a newline in a template name',
    text: initFile({disks: '      - {type: template, template_name: "tiny\\nx"}'}),
    message: /domains\.vm0\.disks\[1\]\.template_name: contains the control character "\\n"/,
  },
  {name: 'a group that breaks the INI inventory', text: initFile({vm: '    groups: ["web]\\n[all:vars"]'}), message: /domains\.vm0\.groups\[0\]: contains the control character "\\n"/},
  {name: 'a group with a bracket', text: initFile({vm: '    groups: "web]x"'}), message: /domains\.vm0\.groups: must match/},
  {name: 'an ssh user with a space', text: initFile({vm: '    ssh-user: "root -oProxyCommand=x"'}), message: /domains\.vm0\.ssh-user: must match/},
  {name: 'a dns domain with a space', text: initFile({nets: 'nets: {lago: {dns_domain_name: "a b"}}'}), message: /nets\.lago\.dns_domain_name: must match/},
  {
    name: 'metadata.deploy-scripts as a number',
    text: initFile({vm: '    metadata: {deploy-scripts: 5}'}),
    message: /domains\.vm0\.metadata\.deploy-scripts: must be a list of script paths \(strings\), not 5/,
  },
  {name: 'metadata.deploy-scripts of numbers', text: initFile({vm: '    metadata: {deploy-scripts: [1, 2]}'}), message: /domains\.vm0\.metadata\.deploy-scripts: must be a list of script paths/},
  {name: 'metadata.ovirt-scripts as a string', text: initFile({vm: '    metadata: {ovirt-scripts: "x.sh"}'}), message: /domains\.vm0\.metadata\.ovirt-scripts: must be a list of script paths/},
  {name: 'metadata.setup-scripts as a mapping', text: initFile({vm: '    metadata: {setup-scripts: {a: 1}}'}), message: /domains\.vm0\.metadata\.setup-scripts: must be a list of script paths/},
  {
    name: 'a newline in metadata.deploy-scripts',
    text: initFile({vm: '    metadata: {deploy-scripts: ["a.sh\\n!x"]}'}),
    message: /domains\.vm0\.metadata\.deploy-scripts\[0\]: contains the control character "\\n"/,
  },
  {
    name: 'metadata.distro climbing out',
    text: initFile({vm: '    metadata: {distro: "../../precious"}'}),
    message: /domains\.vm0\.metadata\.distro: "\.\.\/\.\.\/precious" is not a valid distro name/,
  },
  {name: 'distro with a slash', text: initFile({vm: '    distro: "el8/../../x"'}), message: /domains\.vm0\.distro: "el8\/\.\.\/\.\.\/x" is not a valid distro name/},
  {name: 'metadata.distro with a newline', text: initFile({vm: '    metadata: {distro: "el8\\n"}'}), message: /domains\.vm0\.metadata\.distro: contains the control character "\\n"/},
  {
    name: 'a YAML alias bomb',
    text: `a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n${initFile()}`,
    message: /FILE: the init file uses YAML aliases too often \(at most 100 expansions\)/,
  },
  {name: 'deep flow nesting', text: `x: ${'['.repeat(20_000)}${']'.repeat(20_000)}\n`, message: /FILE: the init file nests too deeply \(at most 32 levels\)/},
  {name: 'deep block nesting', text: `x:\n  ${'- '.repeat(2000)}y\n`, message: /FILE: the init file nests too deeply/},
  {name: 'deep JSON nesting', text: `${'{"a":'.repeat(50_000)}1${'}'.repeat(50_000)}`, message: /FILE: the init file nests too deeply/},
  {name: 'a 5 MB init file', text: `${initFile()}# ${'x'.repeat(5 * 1024 * 1024)}\n`, message: /FILE: the init file is larger than 1 MiB/},
  {name: 'a list instead of a mapping', text: '- a\n- b\n', message: /FILE: the init file must be a mapping/},
  {name: 'not YAML at all', text: 'domains: {vm0: [unclosed\n', message: /FILE: not valid YAML or JSON at line \d+/},
  {
    name: 'a file disk that does not exist',
    text: initFile({disks: '      - {type: file, path: missing.qcow2}'}),
    message: /domains\.vm0\.disks\[1\]\.path: disk image .*missing\.qcow2 does not exist/,
  },
  {
    name: 'a file disk that is a directory',
    make: async (dir) => {
      await mkdir(path.join(dir, 'a-dir.qcow2'))
      return write(dir, initFile({disks: '      - {type: file, path: a-dir.qcow2}'}))
    },
    message: /domains\.vm0\.disks\[1\]\.path: .*a-dir\.qcow2 is not a regular file/,
  },
  {name: 'a deploy script that does not exist', text: initFile({vm: '    deploy-scripts: [nope.sh]'}), message: /domains\.vm0\.deploy-scripts\[0\]: script .*nope\.sh does not exist/},
  {name: 'the init file is a directory', make: async (dir) => (await mkdir(path.join(dir, 'LagoInitFile')), path.join(dir, 'LagoInitFile')), message: /Cannot read init file .*LagoInitFile: EISDIR/},
  {
    name: 'a static address ending in .255',
    text: initFile({vm: '', nets: 'nets: {lago: {}}'}).replace('nics: [{net: lago}]', 'nics: [{net: lago, ip: 10.9.9.255}]'),
    message: /domains\.vm0\.nics\[0\]\.ip: "10\.9\.9\.255" ends in \.255/,
  },
  {
    name: 'a checksum that is not hex',
    text: initFile({disks: '      - {type: template, template_name: /x.qcow2, template_checksum: "sha256:zz;rm -rf /"}'}),
    message: /domains\.vm0\.disks\[1\]\.template_checksum: must match/,
  },
  {name: 'an unknown top-level field', text: `${initFile()}evil: {}\n`, message: /FILE: evil: is not a known field/},
  {name: 'a prefix path with a newline', text: initFile(), prefix: (dir) => path.join(dir, 'pre\nfix'), message: /Prefix path ".*pre\\nfix" contains the control character "\\n"/},
]

async function write(dir: string, text: string): Promise<string> {
  const file = path.join(dir, 'LagoInitFile')
  await writeFile(file, text)
  return file
}

describe('hostile init files: one clear line, exit 2, nothing made, nothing outside touched', function () {
  this.timeout(180_000)
  let world: HostileWorld
  let fingerprint: string
  const outcomes = new Map<string, {outcome: CliOutcome; file: string; prefix: string}>()

  before(async () => {
    world = await HostileWorld.create('init')
    fingerprint = await world.fingerprint()
    const repo = path.join(world.dir, 'repo.json')
    await writeFile(repo, JSON.stringify({name: 'r', sources: {s: {type: 'file', args: {root: world.dir}}}, templates: {tiny: {versions: {v1: {source: 's', handle: 'tiny.qcow2', timestamp: 1}}}}}))
    const runs = CASES.map((c, index) => async () => {
      const dir = path.join(world.dir, 'cases', String(index))
      await mkdir(dir, {recursive: true})
      const file = c.make ? await c.make(dir) : await write(dir, c.text!)
      const prefix = c.prefix ? c.prefix(dir) : path.join(dir, 'prefix')
      outcomes.set(c.name, {outcome: await lagoCli(world, ['init', prefix, file, '--template-repo-path', repo]), file, prefix})
    })
    await pool(runs)
  })

  after(() => world.remove())

  for (const c of CASES) {
    it(c.name, async () => {
      const {outcome, file, prefix} = outcomes.get(c.name)!
      const message = new RegExp(c.message.source.replace('FILE', escape(file)))
      assertCliRefusal(outcome, c.exit ?? 2, message)
      assert.ok(outcome.stderr.includes(file) || /Prefix path/.test(outcome.stderr), `the message names the init file ${file}:\n${outcome.stderr}`)
      assert.deepEqual(await readdir(path.dirname(prefix)).then((names) => names.filter((n) => n.startsWith('pre'))), [], 'no prefix was created')
      assert.deepEqual(await readdir(world.store).catch(() => []), [], 'nothing in the store')
      assert.deepEqual(await readdir(path.join(world.dir, 'subnets')).catch(() => []), [], 'no subnet lease')
      assert.equal(await world.fingerprint(), fingerprint, 'the sentinel directory is untouched')
    })
  }

  it(`holds at least 45 init file cases (${CASES.length})`, () => assert.ok(CASES.length >= 45))
})
