export {OVIRT_VERBS, type OvirtVerb} from './lib/verbs.js'
