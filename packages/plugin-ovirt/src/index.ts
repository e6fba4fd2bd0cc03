export {registerOvirtHostChecks, OVIRT_REPO_PORT} from './lib/host-checks.js'
export {registerOvirtVmTypes, OVIRT_ENGINE, OVIRT_HOST, OVIRT_VM_TYPES} from './lib/vm-types.js'
