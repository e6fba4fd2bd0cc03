/** Host checks (`lago doctor`, preflights of init/start), the plugin hook, and `lago setup`. */
export * from './check.js'
export {registerHostCheck, unregisterHostCheck, registeredHostChecks} from './registry.js'
export {allHostChecks, runHostChecks, preflight, hostCheckError, type HostCheckOptions, type HostReport} from './run.js'
export {toolsCheck, type HostTool} from './checks/tools.js'
export {diskSpaceCheck, freeBytes, type SpaceNeed} from './checks/disk-space.js'
export {TCG_SLOWDOWN} from './checks/kvm.js'
export {systemdRunning, distroFamily, installCommand, groupInfo, type Packages, type DistroFamily} from './facts.js'
export * from './setup.js'
