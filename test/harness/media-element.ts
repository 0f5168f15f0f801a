import type { Locator } from 'playwright-core'

/** The parts of HTMLMediaElement the tests read (the test project has no DOM library). */
interface MediaLike {
  readyState: number
  duration: number
  currentTime: number
  muted: boolean
  error: { code: number } | null
  load(): void
  play(): Promise<void>
  pause(): void
  addEventListener(type: string, listener: () => void, opts?: { once: boolean }): void
}

/** Seconds of an <audio>/<video> once its metadata has loaded (it fails on a media error). */
export async function mediaDuration(el: Locator): Promise<number> {
  return await el.evaluate(async (node) => {
    const m = node as unknown as MediaLike
    if (m.readyState < 1) {
      await new Promise<void>((resolve, reject) => {
        m.addEventListener('loadedmetadata', () => resolve(), { once: true })
        m.addEventListener('error', () => reject(new Error(`media error ${m.error?.code}`)), { once: true })
        if (m.readyState < 1 && m.error === null) m.load()
      })
    }
    return m.duration
  })
}

/** Plays muted for `ms` and returns where the playhead got to: proof the browser decodes the audio. */
export async function playBriefly(el: Locator, ms = 700): Promise<number> {
  return await el.evaluate(async (node, wait) => {
    const m = node as unknown as MediaLike
    m.muted = true
    await m.play()
    await new Promise((r) => setTimeout(r, wait))
    m.pause()
    return m.currentTime
  }, ms)
}
