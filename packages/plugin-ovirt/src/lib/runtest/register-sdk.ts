// Preloaded (node --import) into test scenarios: see sdk-hooks.ts.
import {register} from 'node:module'

register('./sdk-hooks.js', import.meta.url, {data: {sdkUrl: import.meta.resolve('@lago/core')}})
