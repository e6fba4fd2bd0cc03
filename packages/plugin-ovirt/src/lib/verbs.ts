/** The verbs of the oVirt plugin and whether this build has them yet. */
export interface OvirtVerb {
  name: string
  summary: string
  available: boolean
}

export const OVIRT_VERBS: OvirtVerb[] = [
  {name: 'reposetup', summary: 'sync a yum config and built RPMs into the prefix internal repo', available: false},
  {name: 'serve', summary: 'serve the internal repo on the management gateway', available: false},
  {name: 'deploy', summary: 'serve the repo and run the deploy scripts', available: false},
  {name: 'runtest', summary: 'run test scenarios against the prefix', available: false},
  {name: 'collect', summary: 'collect engine and host logs', available: false},
  {name: 'engine-setup', summary: 'run engine-setup with an answer file', available: false},
]
