#!/usr/bin/env node
// `npm run build` (after tsc): lib/lean/run.js and what it imports of this project (the CLI's
// modules and @lago/core) as one file, lib/lean.bundle.js, which bin/run.js loads for
// `status`, `start` and `shell`. Loading one file instead of some seventy modules is about 40 ms of a
// 130 ms command (docs/development.md#start-up). Other packages (ssh2 and the like, imported
// only when needed) stay outside, loaded from node_modules as before.
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {build} from 'esbuild'

const cliRoot = path.dirname(path.dirname(fileURLToPath(import.meta.url)))
const ownOrRelative = /^(\.|\/|@lago\/)/

await build({
  entryPoints: [path.join(cliRoot, 'lib/lean/run.js')],
  // In lib/ itself: modules that find the CLI from their own URL (fast-path.js) see the same place.
  outfile: path.join(cliRoot, 'lib/lean.bundle.js'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  logLevel: 'warning',
  plugins: [
    {
      name: 'third-party-outside',
      setup(on) {
        on.onResolve({filter: /.*/}, (args) => (args.kind === 'entry-point' || ownOrRelative.test(args.path) ? undefined : {path: args.path, external: true}))
      },
    },
  ],
})
