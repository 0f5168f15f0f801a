import { join } from 'node:path'
import { makeTone } from '@loa/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { type ConsoleHarness, printBrowserLogOnFailure, startConsoleHarness } from './harness/console.js'
import { mediaDuration, playBriefly } from './harness/media-element.js'

interface MediaView {
  sha256: string
  durationMs: number
  codec: string
  originalName: string
}

// An operator uploads a file from the media page on a phone-sized screen, watches the progress, and previews
// what the speakers will play: the audio element loads the transcoded file the server stored.
describe('web console: upload with progress and preview', { timeout: 180_000 }, () => {
  let h: ConsoleHarness
  printBrowserLogOnFailure(() => h)

  beforeAll(async () => {
    h = await startConsoleHarness()
  }, 150_000)
  afterAll(async () => {
    await h?.close()
  }, 60_000)

  it('uploads, shows progress, and the preview plays the transcoded media', async () => {
    const wav = join(h.dir, 'thong-bao.wav')
    // 20 s of 44.1 kHz mono WAV is ~1.7 MB: with upload throttled, the progress bar has time to show.
    makeTone(wav, 20, 523)
    const page = await h.open('anBinh', '/audio', { width: 375, height: 800 })
    const cdp = await page.context().newCDPSession(page)
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 20,
      downloadThroughput: -1,
      uploadThroughput: 400 * 1024,
    })

    await page.getByTestId('media-file').setInputFiles(wav)
    await page.getByTestId('media-upload').click()
    // Progress between 0 and 100 % while the bytes go up.
    const progress = page.getByTestId('media-progress')
    await expect
      .poll(
        async () =>
          Number((await progress.getAttribute('data-percent', { timeout: 100 }).catch(() => null)) ?? -1),
        {
          timeout: 30_000,
          interval: 50,
        },
      )
      .toSatisfy((pct: number) => pct > 0 && pct < 100)
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: -1,
    })

    const result = page.getByTestId('media-result')
    await result.waitFor({ timeout: 60_000 })
    const { media } = await h.cp.api<{ media: MediaView[] }>('GET', '/api/media')
    expect(media).toHaveLength(1)
    const stored = media[0] as MediaView
    expect(stored.originalName).toBe('thong-bao.wav')
    expect(await page.getByTestId('media-duration').textContent()).toBe('0:20')

    // The preview is the stored, transcoded file (by its sha256), and the browser can decode it.
    const audio = result.getByTestId('media-preview')
    expect(await audio.getAttribute('src')).toBe(`/media/${stored.sha256}`)
    const duration = await mediaDuration(audio)
    expect(Math.abs(duration * 1000 - stored.durationMs)).toBeLessThan(300)
    expect(Math.abs(duration - 20)).toBeLessThan(0.5)

    // It plays: the playhead moves (headless Chromium plays muted media without a user gesture).
    const played = await playBriefly(audio)
    expect(played).toBeGreaterThan(0.2)

    // The library lists it too.
    await expect.poll(() => page.getByTestId('media-library').textContent()).toContain('thong-bao.wav')
  })

  it('every content page fits a 375 px phone and speaks English on request', async () => {
    const page = await h.open('anBinh', '/audio', { width: 375, height: 800 })
    const pages: [string, string, string][] = [
      ['/audio', 'Âm thanh', 'Media'],
      ['/tts', 'Đọc văn bản thành tiếng', 'Text to speech'],
      ['/bulletins', 'Bản tin', 'Bulletins'],
      ['/inbox', 'Hộp thư bản tin', 'Bulletin inbox'],
      ['/calendar', 'Lịch phát', 'Schedule'],
      ['/live', 'Tiếp sóng trực tiếp', 'Live relay'],
      ['/emergency', 'Phát khẩn cấp', 'Emergency broadcast'],
    ]
    for (const [path, vi] of pages) {
      await page.goto(path)
      await expect.poll(() => page.locator('main h1').textContent(), { timeout: 20_000 }).toBe(vi)
      await page.waitForLoadState('networkidle')
      expect(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth'), path).toBe(
        true,
      )
    }
    await page.getByTestId('lang-toggle').click()
    for (const [path, , en] of pages) {
      await page.goto(path)
      await expect.poll(() => page.locator('main h1').textContent(), { timeout: 20_000 }).toBe(en)
    }
  })
})
