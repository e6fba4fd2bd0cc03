import {Collect} from '@lago/cli'

/**
 * `lago collect` with the oVirt VM types loaded: a VM whose init file names no artifacts
 * gets its role's (ovirt-engine: /var/log/ovirt-engine, ovirt-host: /var/log/vdsm).
 */
export default class OvirtCollect extends Collect {
  static summary = "Collect each VM's artifacts; oVirt engine and host logs by default (see lago collect)."
}
