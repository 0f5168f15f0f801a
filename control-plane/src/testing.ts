// Internals that other workspaces' tests and the benches (scripts/src/bench) use, as `@loa/control-plane/testing`.
// Production modules only: test helpers live in control-plane/test-kit/ and @loa/testkit, never in dist/.
export { parseCapWithInlineAudio } from './alerts/cap/inline-audio.js'
export { parseCap } from './alerts/cap/parse.js'
export { DesiredValidator } from './desired/check.js'
export { startEmbeddedBroker } from './mqtt/broker.js'
