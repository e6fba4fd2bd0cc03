/**
 * The original Lago's configuration keys, mapped onto this Lago's: a key moves to its new
 * place (`[init] template_store` → `[lago] template_store`), or is known to mean nothing here
 * (then it is reported once with the reason, never silently dropped).
 *
 * Sections named after a verb (`[init]`, `[export]`, `[ovirt-reposetup]`) hold defaults for that
 * verb's flags, as the original's did, and `[lago]` those of its global options (`prefix_path`,
 * `workdir_path`, `prefix_name`, `out_format`, `log_level`); the CLI applies them (it knows the verbs).
 */
export interface OriginalKey {
  /** `section.key` it now lives at. */
  to?: string
  /** Why it has no effect (shown in the warning). */
  ignored?: string
}

const SSH_WAIT = 'SSH waits are bounded by [ssh] boot_timeout (seconds)'
const LIBVIRT_AUTH = 'libvirt authenticates through [libvirt] uri and polkit'

export const ORIGINAL_KEYS: Record<string, OriginalKey> = {
  'init.template_store': {to: 'lago.template_store'},
  'init.template_repos': {to: 'lago.template_repos'},
  'lago.template_default_repo': {to: 'init.template_repo_path'},
  'lago.template_repo_path': {to: 'init.template_repo_path'},
  'lago.libvirt_url': {to: 'libvirt.uri'},
  'lago.ssh_user': {to: 'ssh.user'},
  'lago.loglevel': {to: 'lago.log_level'},
  'lago.reposync_dir': {to: 'ovirt-reposetup.rpm_repo'},
  'ovirt.reposync_dir': {to: 'ovirt-reposetup.rpm_repo'},
  'lago.reposync_config': {to: 'ovirt-reposetup.reposync_yum_config'},
  'lago.ssh_password': {ignored: 'Lago logs in with the prefix SSH key only'},
  'lago.ssh_tries': {ignored: SSH_WAIT},
  'lago.ssh_timeout': {ignored: SSH_WAIT},
  'lago.default_root_password': {ignored: 'set root-password per VM in the init file'},
  'lago.logdepth': {ignored: 'the progress display shows every level of nested tasks'},
  'lago.libvirt_user': {ignored: LIBVIRT_AUTH},
  'lago.libvirt_username': {ignored: LIBVIRT_AUTH},
  'lago.libvirt_password': {ignored: LIBVIRT_AUTH},
  'lago.default_vm_type': {ignored: 'a VM without vm-type is a plain VM'},
  'lago.default_vm_provider': {ignored: 'libvirt is the only VM provider'},
}

/** A section name as written in a file or an environment variable, in canonical form. */
export function sectionName(name: string): string {
  return name.toLowerCase().replace(/[_: ]/g, '-')
}

export interface IgnoredKey {
  section: string
  key: string
  why: string
}

/**
 * One source's values with the original keys moved to their new places; a new-style key set
 * in the same source wins over the original spelling of it.
 */
export function mapOriginalKeys(values: Record<string, Record<string, unknown>>): {values: Record<string, Record<string, unknown>>; ignored: IgnoredKey[]} {
  const out: Record<string, Record<string, unknown>> = {}
  const ignored: IgnoredKey[] = []
  const moved: [string, string, unknown][] = []
  for (const [rawSection, entries] of Object.entries(values)) {
    if (entries === null || typeof entries !== 'object') continue
    const section = sectionName(rawSection)
    for (const [rawKey, value] of Object.entries(entries)) {
      const key = rawKey.toLowerCase()
      const original = ORIGINAL_KEYS[`${section}.${key}`]
      if (original?.to) moved.push([...(original.to.split('.') as [string, string]), value])
      else if (original?.ignored) ignored.push({section, key, why: original.ignored})
      else (out[section] ??= {})[key] = value
    }
  }
  for (const [section, key, value] of moved) {
    const target = (out[section] ??= {})
    if (!(key in target)) target[key] = value
  }
  return {values: out, ignored}
}
