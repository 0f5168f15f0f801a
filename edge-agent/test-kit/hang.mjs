// TEST ONLY, never part of the agent's build: loaded with `node --import edge-agent/test-kit/hang.mjs
// dist/main.js`, it makes the real agent process fail on purpose `LOA_TEST_HANG_AFTER_MS` (default 2000) after
// start, so the watchdog and the exit paths can be tested (health/watchdog.test.ts). Without LOA_TEST_HANG it does
// nothing.
// - `scheduler`: the scheduler stops ticking (the event loop keeps running: the watchdog must notice).
// - `crash`: every zone on, then an uncaught error (the exit path must switch them off).
// It reaches the agent through the module main.js imports (same URL, so the same module instance): the agent that
// starts is the one it hangs.
import { Agent } from '../dist/agent.js'

const what = process.env.LOA_TEST_HANG
if (what) {
  const after = Number(process.env.LOA_TEST_HANG_AFTER_MS ?? 2000)
  const start = Agent.prototype.start
  Agent.prototype.start = async function (...args) {
    await start.apply(this, args)
    setTimeout(() => {
      if (what === 'scheduler') {
        // The ticker calls this.tick() through the instance: replacing it freezes the tick like a wedged loop.
        this.scheduler.tick = () => {}
      } else if (what === 'crash') {
        void this.box.set(true).then(() => {
          throw new Error('LOA_TEST_HANG=crash')
        })
      }
    }, after)
  }
}
