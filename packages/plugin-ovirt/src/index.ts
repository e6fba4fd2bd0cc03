export {OVIRT_VERBS, type OvirtVerb} from './lib/verbs.js'
export {registerOvirtHostChecks, OVIRT_REPO_PORT} from './lib/host-checks.js'
