import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import {execFileSync} from 'node:child_process'
import {appendFile, mkdir, mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import {
  GoldenCatalog,
  fileDigest,
  formatDigest,
  goldenSource,
  isLagoError,
  loadTemplateRepo,
  parseTemplateRepo,
  parseGoldenRef,
  publishGolden,
  pruneStore,
  resolveTemplate,
  TemplateStore,
  type GoldenManifest,
} from '@lago/core'
import {initFileGolden} from '../../packages/core/src/spec/load.js'

describe('golden environments (store side)', () => {
  let dir: string
  let repoFile: string

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'lago-golden-'))
    await mkdir(path.join(dir, 'images'))
    const image = path.join(dir, 'images', 'a.qcow2')
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', image, '16M'])
    await writeFile(
      `${image}.hash`,
      createHash('sha256')
        .update(await readFile(image))
        .digest('hex'),
    )
    await writeFile(`${image}.metadata`, JSON.stringify({distro: 'tiny'}))
    repoFile = path.join(dir, 'repo.json')
    await writeFile(repoFile, JSON.stringify({name: 'r', sources: {l: {type: 'file', args: {root: 'images'}}}, templates: {t: {versions: {v1: {source: 'l', handle: 'a.qcow2', timestamp: 1}}}}}))
  })

  after(() => rm(dir, {recursive: true, force: true}))

  /** A golden environment "g:1" of one VM whose disk is a layer on r:t:v1, stored the way freeze stores it. */
  async function frozen(storeDir: string): Promise<{store: TemplateStore; catalog: GoldenCatalog; id: string}> {
    const store = new TemplateStore(storeDir)
    await store.ensure(resolveTemplate(await loadTemplateRepo(repoFile), 't:v1'))
    const id = 'golden:g.vm0.root:1'
    const {release} = await store.acquire(id)
    const part = store.partPath(id)
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', './r:t:v1', '-F', 'qcow2', part])
    const hash = formatDigest(await fileDigest(part))
    await store.commit(part, {
      id,
      path: store.imagePath(id),
      format: 'qcow2',
      hash,
      size: 1,
      verified: true,
      source: 'test',
      storedAt: new Date().toISOString(),
      metadata: {distro: 'tiny', golden: {name: 'g', version: '1', 'layered-on': 'r:t:v1'}},
    })
    await release()
    const manifest: GoldenManifest = {
      format: 1,
      name: 'g',
      version: '1',
      createdAt: new Date().toISOString(),
      source: {prefix: '/p', uuid: 'u', initFile: '/p/LagoInitFile'},
      capture: 'stopped',
      nets: [{name: 'lago', type: 'nat', management: true, dnsDomainName: 'lago.local', gw: '192.168.5.1', leased: false}],
      vms: [
        {
          name: 'vm0',
          memory: 256,
          vcpu: 1,
          metadata: {},
          artifacts: [],
          groups: [],
          bootstrap: true,
          sshUser: 'root',
          vmType: 'default',
          nics: [{net: 'lago', octet: 7, frozenIp: '192.168.5.7'}],
          disks: [{name: 'root', dev: 'vda', id, template: 'g.vm0.root', version: '1', hash, size: 1, from: 'r:t:v1', layeredOn: 'r:t:v1'}],
          deployed: {scripts: ['provision.sh'], ran: true},
        },
      ],
    }
    const catalog = new GoldenCatalog(store)
    await catalog.write(manifest)
    return {store, catalog, id}
  }

  async function user(name: string) {
    const uuidFile = path.join(dir, name, '.lago', 'uuid')
    await mkdir(path.dirname(uuidFile), {recursive: true})
    await writeFile(uuidFile, name)
    return {uuidFile, uuid: name}
  }

  it('names are NAME or NAME:VERSION, nothing a path could be made of', () => {
    assert.deepEqual(parseGoldenRef('base'), {name: 'base'})
    assert.deepEqual(parseGoldenRef('base:1.2'), {name: 'base', version: '1.2'})
    for (const bad of ['a:b:c', '../x', 'a/b', '', 'a:', '.hidden'])
      assert.throws(
        () => parseGoldenRef(bad),
        (e) => isLagoError(e) && e.code === 'USAGE',
        bad,
      )
  })

  it("a repository may publish golden environments; their names and handles are checked like templates'", async () => {
    const repo = (goldens: unknown) => parseTemplateRepo(JSON.stringify({name: 'x', sources: {s: {type: 'file', args: {root: '.'}}}, templates: {}, goldens}), '/r.json')
    assert.ok((await repo({g: {versions: {'1': {source: 's', handle: 'goldens/g/1.json', timestamp: 1}}}})).goldens?.g)
    await assert.rejects(repo({'bad name': {versions: {'1': {source: 's', handle: 'a', timestamp: 1}}}}), /goldens\["bad name"\]: is not a valid name/)
    await assert.rejects(repo({g: {versions: {'1': {source: 's', handle: '../etc/passwd', timestamp: 1}}}}), /goldens\.g\.versions\.1\.handle/)
  })

  it('an init file may name a golden environment, and then nothing else', async () => {
    const file = path.join(dir, 'From.yaml')
    await writeFile(file, 'golden: base:2\n')
    assert.equal(await initFileGolden(file), 'base:2')
    await writeFile(file, 'golden: base:2\ndomains: {}\n')
    await assert.rejects(initFileGolden(file), (e) => isLagoError(e) && e.code === 'INIT_FILE' && /domains/.test(e.message))
    await writeFile(file, 'domains: {}\nnets: {}\n')
    assert.equal(await initFileGolden(file), undefined)
  })

  it('a copy leases every net afresh, keeps last octets, and uses the frozen disks and their base', async () => {
    const {store, catalog} = await frozen(path.join(dir, 'store-source'))
    assert.deepEqual(await catalog.verify((await catalog.list())[0]), [])
    const source = await goldenSource(store, {name: 'g'})
    assert.equal(source.spec.nets[0].gw, undefined)
    assert.deepEqual(source.spec.domains[0].nics, [{net: 'lago', ip: '192.168.5.7'}])
    assert.deepEqual(source.spec.domains[0].deployScripts, [])
    assert.deepEqual(source.spec.domains[0].disks[0].templateName, 'golden:g.vm0.root:1')
    assert.deepEqual(source.templates.templates.map((t) => t.template.id).sort(), ['golden:g.vm0.root:1', 'r:t:v1'])
    await assert.rejects(goldenSource(store, {name: 'g', version: '9'}), (e) => isLagoError(e) && /It holds: g:1/.test(e.hint ?? ''))
  })

  it('a copy of a golden environment frozen again registers for every layer below it', async () => {
    const {store, catalog, id} = await frozen(path.join(dir, 'store-chain'))
    const second = 'golden:h.vm0.root:1'
    const {release} = await store.acquire(second)
    const part = store.partPath(second)
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', `./${id}`, '-F', 'qcow2', part])
    const hash = formatDigest(await fileDigest(part))
    const metadata = {golden: {name: 'h', version: '1', 'layered-on': id}}
    await store.commit(part, {id: second, path: store.imagePath(second), format: 'qcow2', hash, size: 1, verified: true, source: 'test', storedAt: new Date().toISOString(), metadata})
    await release()
    const [g] = await catalog.list()
    const vm = {...g.manifest.vms[0], disks: [{...g.manifest.vms[0].disks[0], id: second, template: 'h.vm0.root', hash, layeredOn: id}]}
    await catalog.write({...g.manifest, name: 'h', vms: [vm]})
    const source = await goldenSource(store, {name: 'h'})
    assert.deepEqual(source.templates.templates.map((t) => t.template.id).sort(), [id, second, 'r:t:v1'])
  })

  it('verify finds a changed disk', async () => {
    const {store, catalog, id} = await frozen(path.join(dir, 'store-tamper'))
    execFileSync('chmod', ['u+w', store.imagePath(id)])
    await appendFile(store.imagePath(id), Buffer.alloc(512))
    const problems = await catalog.verify((await catalog.list())[0])
    assert.equal(problems.length, 1)
    assert.match(problems[0], /vm0\/root: .* hashes to sha256:/)
  })

  it('prune keeps a golden environment a copy uses (and its base), removes it with its description once unused', async () => {
    const {store, catalog, id} = await frozen(path.join(dir, 'store-prune'))
    const copy = await user('copy')
    await store.users(id).add(copy)
    await store.users('r:t:v1').add(copy)
    for (const only of [undefined, 'goldens' as const]) {
      const kept = await pruneStore(store, {only})
      assert.deepEqual(kept.goldensRemoved, [])
      assert.deepEqual(kept.goldensKept, [{golden: 'g:1', users: [path.join(dir, 'copy')]}])
    }
    await rm(copy.uuidFile)
    const onlyGoldens = await pruneStore(store, {only: {name: 'g'}})
    assert.deepEqual(onlyGoldens.goldensRemoved, ['g:1'])
    assert.deepEqual(
      onlyGoldens.removed.map((e) => e.id),
      [id],
    )
    assert.deepEqual(await catalog.list(), [])
    assert.ok(await store.get('r:t:v1'), 'golden prune leaves other templates')
  })

  it('publishes flattened disks and a hashed description; another store pulls it verified, and refuses a changed description', async () => {
    const {catalog} = await frozen(path.join(dir, 'store-publish'))
    const output = path.join(dir, 'published')
    const published = await publishGolden(catalog, {name: 'g'}, {output})
    assert.deepEqual(published.images, ['images/g.vm0.root-1.qcow2'])
    assert.doesNotMatch(execFileSync('qemu-img', ['info', path.join(output, published.images[0])], {encoding: 'utf8'}), /backing file/)
    await assert.rejects(publishGolden(catalog, {name: 'g'}, {output}), /already publishes/)

    const other = new TemplateStore(path.join(dir, 'store-other'))
    const repo = await loadTemplateRepo(published.repository)
    const source = await goldenSource(other, {name: 'g', version: '1'}, {loadRepo: async () => repo})
    assert.deepEqual(source.spec.domains[0].disks[0].templateName, 'golden:g.vm0.root:1')
    assert.equal(source.templates.templates[0].template.image, path.join(output, published.images[0]))
    assert.equal((await new GoldenCatalog(other).list())[0].manifest.vms[0].disks[0].layeredOn, undefined)

    await appendFile(published.description, ' ')
    await assert.rejects(goldenSource(new TemplateStore(path.join(dir, 'store-third')), {name: 'g'}, {loadRepo: async () => repo}), /hashes to sha256:.* is published; it was not stored/)
  })
})
