import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ConsoleHarness, printBrowserLogOnFailure, startConsoleHarness } from './harness/console.js'
import { type StreamServer, startStreamServer } from './harness/stream-server.js'

interface LiveView {
  live: { id: string; state: string; sourceUrl: string }
  counts: Record<'targeted' | 'playing' | 'pending', number>
}

// A commune operator relays a (local) radio stream to the commune from the live page, watches the clusters
// acknowledge it, and stops it; a source that is not a network stream is refused with the server's reason.
describe('web console: live relay', { timeout: 180_000 }, () => {
  let h: ConsoleHarness
  printBrowserLogOnFailure(() => h)
  let station: StreamServer

  beforeAll(async () => {
    station = await startStreamServer()
    h = await startConsoleHarness({ agents: ['c-ab-1', 'c-ab-2'] })
  }, 150_000)
  afterAll(async () => {
    await h?.close()
    await station?.close()
  }, 60_000)

  it('starts from a source URL, shows the clusters playing, and stops', async () => {
    const page = await h.open('anBinh', '/live', { width: 375, height: 800 })
    await page.getByTestId('live-title').fill('Tiếp sóng đài tỉnh')
    await page.getByTestId('live-target').selectOption('unit:xa-an-binh')

    // A local file is not a stream: the server says why, in the page's language, and nothing starts.
    await page.getByTestId('live-source').fill('file:///etc/passwd')
    await page.getByTestId('live-start').click()
    await expect
      .poll(() => page.locator('form [role=alert]').textContent())
      .toContain('Tiếp sóng không hợp lệ')
    expect(await page.getByTestId('live-item').count()).toBe(0)

    await page.getByTestId('live-source').fill(station.url)
    await page.getByTestId('live-start').click()
    const item = page.getByTestId('live-item')
    await item.waitFor({ timeout: 20_000 })
    const liveId = (await item.getAttribute('data-live-id')) as string
    // Three clusters in the commune; the two with an agent play (the village's has none and stays pending).
    await expect.poll(() => item.getByTestId('ack-targeted').textContent(), { timeout: 20_000 }).toBe('3')
    await expect
      .poll(() => item.getByTestId('ack-playing').textContent(), { timeout: 60_000, interval: 500 })
      .toBe('2')
    await expect.poll(() => station.listeners(), { timeout: 20_000 }).toBe(2)
    const running = await h.cp.api<LiveView>('GET', `/api/lives/${liveId}`)
    expect(running.live).toMatchObject({ state: 'active', sourceUrl: station.url })
    expect(running.counts.playing).toBe(2)

    await item.getByTestId('live-stop').click()
    await expect.poll(() => page.getByTestId('live-item').count(), { timeout: 20_000 }).toBe(0)
    expect((await h.cp.api<LiveView>('GET', `/api/lives/${liveId}`)).live.state).toBe('stopped')
    // The agents hang up on the station.
    await expect.poll(() => station.listeners(), { timeout: 30_000 }).toBe(0)
  })
})
