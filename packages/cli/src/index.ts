/** What plugins import from the CLI: the shared base command and task rendering. */
export {LagoCommand, type LagoFlags} from './base-command.js'
export {runWithListr} from './task-renderer.js'
