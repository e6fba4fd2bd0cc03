#!/usr/bin/env node
import {launch} from '../lib/launch.js'

process.env.OCLIF_SKIP_NEW_VERSION_CHECK ??= 'true'
// A linked plugin with hooks (lago-ovirt's init hook) runs its compiled lib/; oclif would warn about it on every command.
process.env.OCLIF_DISABLE_LINKED_ESM_WARNING ??= 'true'
await launch(import.meta.url)
