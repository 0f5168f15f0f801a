// Public surface of the package: the process entry point is main.ts; these are for embedding and tests.
export { AGENT_VERSION, Agent, type AgentTuning } from './agent.js'
export { type AgentConfig, loadConfig } from './config/config.js'
export { AgentError, type AgentErrorCode, AgentErrorCodes } from './errors.js'
export { type AmpSwitch, LoggedAmpSwitch } from './hardware/amp-switch.js'
export type { AudioOutput } from './playback/audio-output.js'
