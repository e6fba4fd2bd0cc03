/** What plugins import from the CLI: the shared base command and task rendering. */
export {LagoCommand, type LagoFlags} from './base-command.js'
export {runWithListr} from './task-renderer.js'
// Core commands a plugin may extend (the oVirt plugin's `ovirt collect`).
export {default as Collect} from './commands/collect.js'
