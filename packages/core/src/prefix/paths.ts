import path from 'node:path'

export const STATE_DIR_NAME = '.lago'

/** Files that hold passwords or keys (state.json holds ssh-password). */
export const SECRET_FILE_MODE = 0o600

/** Where each piece of a prefix lives: PREFIX/.lago/... */
export class PrefixPaths {
  readonly root: string
  readonly stateDir: string

  constructor(root: string) {
    this.root = path.resolve(root)
    this.stateDir = path.join(this.root, STATE_DIR_NAME)
  }

  get uuid() {
    return path.join(this.stateDir, 'uuid')
  }
  get initialized() {
    return path.join(this.stateDir, 'initialized')
  }
  get state() {
    return path.join(this.stateDir, 'state.json')
  }
  get privateKey() {
    return path.join(this.stateDir, 'id_ed25519')
  }
  get images() {
    return path.join(this.stateDir, 'images')
  }
  get seeds() {
    return path.join(this.stateDir, 'seeds')
  }
  get logs() {
    return path.join(this.stateDir, 'logs')
  }
  /** The prefix's copies of the deploy scripts, one directory per VM. */
  get scripts() {
    return path.join(this.stateDir, 'scripts')
  }
  deployLog(vm: string) {
    return path.join(this.logs, 'deploy', `${vm}.log`)
  }
  get logFile() {
    return path.join(this.logs, 'lago.log')
  }
  /** Every event of every verb run on this prefix (NDJSON, appended). */
  get events() {
    return path.join(this.stateDir, 'events.ndjson')
  }
  /** Default home of the logs collected when a verb fails. */
  get failures() {
    return path.join(this.stateDir, 'failures')
  }
  consoleLog(vm: string) {
    return path.join(this.logs, `${vm}.console.log`)
  }
  /** A path stored relative to the state dir, made absolute. */
  resolve(stored: string) {
    return path.resolve(this.stateDir, stored)
  }
  relative(absolute: string) {
    return path.relative(this.stateDir, absolute)
  }
}
