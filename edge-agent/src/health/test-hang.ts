import type { Agent } from '../agent.js'

/**
 * TEST ONLY: `LOA_TEST_HANG` makes a running agent fail on purpose, `LOA_TEST_HANG_AFTER_MS` (default 2000) after
 * start, so the watchdog and the exit paths can be tested on the real process. Never set it on a device.
 * - `scheduler`: the scheduler stops ticking (the event loop keeps running: the watchdog must notice).
 * - `crash`: every zone on, then an uncaught error (the exit path must switch them off).
 */
export function installTestHang(agent: Agent, env: NodeJS.ProcessEnv): void {
  const what = env.LOA_TEST_HANG
  if (!what) return
  const after = Number(env.LOA_TEST_HANG_AFTER_MS ?? 2000)
  setTimeout(() => {
    if (what === 'scheduler') {
      // The ticker calls this.tick() through the instance: replacing it freezes the tick like a wedged loop.
      ;(agent.scheduler as unknown as { tick: () => void }).tick = () => {}
    } else if (what === 'crash') {
      void agent.box.set(true).then(() => {
        throw new Error('LOA_TEST_HANG=crash')
      })
    }
  }, after)
}
