import assert from 'node:assert/strict'
import {mkdir, mkdtemp, writeFile} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import {DEFAULT_CONFIG, isLagoError, loadConfig} from '@lago/core'

describe('layered configuration', () => {
  let dir: string
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'lago-config-'))
    await mkdir(path.join(dir, 'etc'))
    await writeFile(path.join(dir, 'etc/10-site.conf'), '[lago]\ntemplate_store = /srv/store\nsubnet_count = 10\n[libvirt]\ndomain_type = qemu\n')
    await writeFile(path.join(dir, 'etc/20-more.conf'), '[lago]\nsubnet_count = 12\n')
    await writeFile(path.join(dir, 'user.conf'), '[libvirt]\nuri = qemu+ssh://hv/system\n')
  })

  it('has the documented defaults', async () => {
    const config = await loadConfig({env: {}, systemDir: path.join(dir, 'none'), userFile: path.join(dir, 'none.conf')})
    assert.deepEqual(config, DEFAULT_CONFIG)
    assert.equal(config.libvirt.domain_type, 'auto')
  })

  it('applies system files in order, then the user file, then the environment, then flags', async () => {
    const config = await loadConfig({
      env: {LAGO__LIBVIRT__DOMAIN_TYPE: 'kvm', LAGO_LEASE_DIR: '/tmp/leases', LAGO__SSH__BOOT_TIMEOUT: '30'},
      systemDir: path.join(dir, 'etc'),
      userFile: path.join(dir, 'user.conf'),
      overrides: {lago: {template_store: '/flag/store'}},
    })
    assert.equal(config.lago.subnet_count, 12)
    assert.equal(config.libvirt.uri, 'qemu+ssh://hv/system')
    assert.equal(config.libvirt.domain_type, 'kvm')
    assert.equal(config.lago.lease_dir, '/tmp/leases')
    assert.equal(config.ssh.boot_timeout, 30)
    assert.equal(config.lago.template_store, '/flag/store')
  })

  it('rejects a bad value naming the setting, its source and the choices', async () => {
    await assert.rejects(loadConfig({env: {LAGO__LIBVIRT__DOMAIN_TYPE: 'xen'}, systemDir: dir, userFile: '/nonexistent'}), (error: unknown) => {
      assert.ok(isLagoError(error))
      assert.equal(error.message, 'Invalid value "xen" for libvirt.domain_type in the environment: expected one of auto, kvm, qemu.')
      return true
    })
    await writeFile(path.join(dir, 'bad.conf'), '[ssh]\nboot_timeout = soon\n')
    await assert.rejects(loadConfig({env: {}, systemDir: '/nonexistent', userFile: path.join(dir, 'bad.conf')}), /Invalid value "soon" for ssh\.boot_timeout in .*bad\.conf: expected a number\./)
  })
})
