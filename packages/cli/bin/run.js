#!/usr/bin/env node
import {runCli} from '../lib/entry.js'

await runCli()
