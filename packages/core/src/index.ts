/**
 * @lago/core: the Lago library and SDK. Heavy dependencies (execa, ssh2, ajv, xml) load
 * lazily inside the functions that need them, so importing this module is cheap.
 */
export * from './errors.js'
export * from './log.js'
export * from './tasks.js'
export * from './config/config.js'
export * from './spec/types.js'
export {loadInitFile, parseInitFile, DEFAULT_INIT_FILE} from './spec/load.js'
export {INIT_FILE_SCHEMA} from './spec/schema.js'
export * from './templates/repo.js'
export * from './templates/store.js'
export * from './network/leases.js'
export * from './prefix/paths.js'
export * from './prefix/state.js'
export * from './prefix/find.js'
export * from './prefix/init.js'
export * from './prefix/prefix.js'
export * from './providers/libvirt/provider.js'
export {kvmWorks, resolveDomainType, type DomainType} from './providers/libvirt/domain-type.js'
export * from './ssh/client.js'
export {Rollback} from './util/rollback.js'
export {formatBytes} from './util/format.js'
