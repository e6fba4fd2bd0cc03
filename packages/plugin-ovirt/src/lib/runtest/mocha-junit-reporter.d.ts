// mocha-junit-reporter ships no types: the one constructor spec-junit-reporter.cts uses.
declare module 'mocha-junit-reporter' {
  import type Mocha = require('mocha')
  class JUnitReporter {
    constructor(runner: Mocha.Runner, options?: Mocha.MochaOptions)
  }
  export = JUnitReporter
}
