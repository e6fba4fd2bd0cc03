import type {OptionSpec} from './options.js'

/** A flag of the original verb: renamed to the new flag `to`, or accepted with a notice. */
export interface VerbOption extends OptionSpec {
  to?: string
  notice?: string
}

/**
 * The original's spellings per command id, where they differ from the new ones (aliases that
 * oclif already knows, like `export --dst-dir`, `collect --no-skip` and `ansible_hosts`, are
 * declared on the commands themselves).
 */
export const VERB_OPTIONS: Record<string, VerbOption[]> = {
  export: [
    {long: ['dst-dir'], short: 'd', arity: 1, to: 'output'},
    {long: ['vm-names'], short: 'n', arity: '*', to: 'vm'},
    {long: ['compress'], short: 'c', arity: 0, notice: 'disks are exported as qcow2 (compressed clusters where the source was); compress the directory yourself if you ship it'},
    {long: ['without-threads'], arity: 0, notice: 'disks are copied by qemu-img, one process per disk'},
  ],
  'ansible-hosts': [{long: ['keys'], short: 'k', arity: '*', to: 'key'}],
  init: [{long: ['skip-build'], arity: 0, notice: 'this Lago has no build step (virt-customize); nothing to skip'}],
  'ovirt:reposetup': [
    {long: ['engine-dir', 'vdsm-dir', 'ioprocess-dir', 'vdsm-jsonrpc-java-dir'], arity: 1, to: 'build'},
    {long: ['engine-with-gwt'], arity: 0, notice: "builds use the source tree's own spec file and its defaults"},
    {long: ['repoman-config'], arity: 1, notice: 'the internal repository is merged without repoman (custom sources, then builds, then synced repositories)'},
    {long: ['repo-name'], arity: 1, notice: 'the internal repository is PREFIX/internal_repo/<distro>/, served at http://<gateway>:8585/<distro>/'},
  ],
  'ovirt:start': [
    {long: ['with-vms'], arity: 0, notice: 'no oVirt engine API is driven: "lago ovirt start" boots the VMs and waits for their services'},
    {long: ['vms-timeout'], arity: 1, notice: 'use --services-timeout (seconds to wait for the services of each VM)'},
  ],
}
