/** The verbs of the oVirt plugin (`lago ovirt` lists them). */
export interface OvirtVerb {
  name: string
  summary: string
}

export const OVIRT_VERBS: OvirtVerb[] = [
  {name: 'reposetup', summary: 'sync a yum config and built RPMs into the prefix internal repo'},
  {name: 'serve', summary: 'serve the internal repo on the management gateway'},
  {name: 'deploy', summary: 'serve the repo, point the guests at it, run the deploy scripts'},
  {name: 'runtest', summary: 'run test scenarios against the prefix'},
  {name: 'collect', summary: 'collect logs (engine and host logs by default)'},
  {name: 'start', summary: 'start the environment and wait for the oVirt services'},
  {name: 'stop', summary: 'stop the oVirt services and shut the environment down'},
  {name: 'engine-setup', summary: 'run engine-setup with an answer file on the engine VM'},
]
