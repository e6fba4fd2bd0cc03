#!/usr/bin/env node
import {execute} from '@oclif/core'

process.env.OCLIF_SKIP_NEW_VERSION_CHECK ??= 'true'
await execute({dir: import.meta.url})
