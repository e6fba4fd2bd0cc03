// Mocha loads reporters with require(): this one is CommonJS. It prints mocha's usual spec
// output while mocha-junit-reporter writes the JUnit XML (options: mochaFile=PATH).
import Mocha = require('mocha')
import JUnitReporter = require('mocha-junit-reporter')

class SpecAndJUnit extends Mocha.reporters.Spec {
  constructor(runner: Mocha.Runner, options: Mocha.MochaOptions) {
    super(runner, options)
    new JUnitReporter(runner, options)
  }
}

export = SpecAndJUnit
