/**
 * Module resolution hooks for JavaScript/TypeScript test scenarios run by `lago ovirt
 * runtest`: `import ... from '@lago/core'` resolves to the SDK this Lago runs on, wherever
 * the scenario file lives (a suite checkout has no node_modules of its own).
 */
interface ResolveContext {
  parentURL?: string
}
type NextResolve = (specifier: string, context: ResolveContext) => Promise<{url: string}>

let sdkUrl = ''

export function initialize(data: {sdkUrl: string}): void {
  sdkUrl = data.sdkUrl
}

export async function resolve(specifier: string, context: ResolveContext, nextResolve: NextResolve) {
  if (specifier === '@lago/core') return {url: sdkUrl, shortCircuit: true}
  return nextResolve(specifier, context)
}
