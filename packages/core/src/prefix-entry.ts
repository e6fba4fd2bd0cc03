/**
 * The light entry point (`@lago/core/prefix`): what most CLI verbs need to find and open
 * a prefix, without loading templates, host checks or init. Everything here is also
 * exported by the main entry.
 */
export {LagoError, AbortedError, isLagoError, errorMessage} from './errors.js'
export {log, type LogLevel} from './log.js'
export {events, eventError, type EventBus, type TaskSubject} from './events/bus.js'
export {formatTransfer} from './util/progress.js'
export {writeEventsTo, type EventSink} from './events/ndjson.js'
export type {LagoEvent, EventObject, TaskRef} from './events/types.js'
export {loadConfig, readConfigLayers, mergeLayers, DEFAULT_CONFIG, type LagoConfig, type Layer} from './config/config.js'
export {applyLibvirtMode, modeOf, type LibvirtMode} from './session/mode.js'
export {sectionName} from './config/original-keys.js'
export {findPrefix} from './prefix/find.js'
export {Prefix, type PrefixStatus} from './prefix/prefix.js'
export {saveVms} from './prefix/saved.js'
export {plainRunner, withEvents, progressReporter, type Task} from './tasks.js'
export {beginChange, PrefixChange} from './prefix/change.js'
export {describeHolder, type LockHolder} from './prefix/lock.js'
export {PrefixPaths} from './prefix/paths.js'
export {execOn, interactiveShell} from './ssh/client.js'
