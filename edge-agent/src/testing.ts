// Internals that other workspaces' tests (test/) and the benches (scripts/src/bench) use, as
// `@loa/edge-agent/testing`. Production modules only: test helpers live in edge-agent/test-kit/ and @loa/testkit.
export { accessFetch, httpAccess } from './link/verify-http.js'
export { dbBytes, Pruner } from './media/prune.js'
export { MINUTES_IN_YEAR, yearOfPlays } from './playback/year-of-plays.js'
export { liveInputArgs } from './relays/live-player.js'
export { type Db, openDb } from './storage/db.js'
