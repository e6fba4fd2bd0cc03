#!/usr/bin/env node
// `npm run build` (after tsc): lib/lean/run.js and what it imports of this project (the CLI's
// modules and @lago/core) as lib/lean.bundle.js plus lib/lean.chunk-*.js for what is imported
// only when needed, which bin/run.js loads for `status`, `start` and `shell`. A few files
// instead of some seventy modules is about 40 ms of a 130 ms command
// (docs/development.md#start-up). Other packages (ssh2 and the like, imported only when
// needed) stay outside, loaded from node_modules as before.
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {readdirSync, rmSync} from 'node:fs'
import {build} from 'esbuild'

const cliRoot = path.dirname(path.dirname(fileURLToPath(import.meta.url)))
const ownOrRelative = /^(\.|\/|@lago\/)/

const lib = path.join(cliRoot, 'lib')
// Chunks of an earlier build (their names carry a hash of their content).
for (const file of readdirSync(lib)) if (/^lean\.chunk-.*\.js$/.test(file)) rmSync(path.join(lib, file))

await build({
  entryPoints: {'lean.bundle': path.join(lib, 'lean/run.js')},
  // In lib/ itself: modules that find the CLI from their own URL (fast-path.js) see the same place.
  outdir: lib,
  // What a verb imports only when it runs (start's tasks, failure collection, the SSH client)
  // goes into chunks loaded then, so `status` parses only what it uses.
  splitting: true,
  chunkNames: 'lean.chunk-[hash]',
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
