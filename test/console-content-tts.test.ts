import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Play } from './harness/api-types.js'
import { type ConsoleHarness, printBrowserLogOnFailure, startConsoleHarness } from './harness/console.js'
import { mediaDuration } from './harness/media-element.js'
import { localTime, secondsFromNow } from './harness/schedule.js'

interface BulletinView {
  id: string
  title: string
  level: string
  status: string
  mediaSha256: string
  text: string | null
  voice: string | null
}

// A commune operator types a Vietnamese bulletin with a date and a number, picks the Southern voice, listens,
// saves it as a bulletin and schedules it: the simulated agents download and play the spoken audio.
describe('web console: text to speech, played by the agents', { timeout: 180_000 }, () => {
  let h: ConsoleHarness
  printBrowserLogOnFailure(() => h)

  beforeAll(async () => {
    h = await startConsoleHarness({ agents: ['c-ab-1', 'c-ab-2'] })
  }, 150_000)
  afterAll(async () => {
    await h?.close()
  }, 60_000)

  it('speaks the text, saves it, schedules it, and the agents play it', async () => {
    const page = await h.open('anBinh', '/tts', { width: 375, height: 800 })
    const text = 'Ngày 25/12 xã An Bình tổ chức tiêm chủng cho 120 cháu tại trạm y tế lúc 7h30.'
    await page.getByTestId('tts-text').fill(text)
    await page.getByTestId('tts-voice-south').check()

    // How it will be read: the date and the numbers in words, no digits left.
    await page.getByTestId('tts-normalize').click()
    const reading = (await page.getByTestId('tts-reading').textContent({ timeout: 20_000 })) ?? ''
    expect(reading).toContain('hai mươi lăm tháng mười hai')
    expect(reading).toContain('một trăm hai mươi')
    expect(reading).not.toMatch(/\d/)

    // The preview is real speech the browser can decode.
    await page.getByTestId('tts-preview').click()
    const audio = page.getByTestId('tts-audio')
    await audio.waitFor({ timeout: 60_000 })
    const seconds = await mediaDuration(audio)
    expect(seconds).toBeGreaterThan(2)

    await page.getByTestId('tts-title').fill('Tiêm chủng 25/12')
    await page.getByTestId('tts-save').click()
    const saved = page.getByTestId('tts-saved')
    await saved.waitFor({ timeout: 60_000 })
    const bulletinId = (await saved.getAttribute('data-bulletin-id')) as string
    const bulletin = await h.cp.api<BulletinView>('GET', `/api/bulletins/${bulletinId}`)
    expect(bulletin).toMatchObject({ title: 'Tiêm chủng 25/12', level: 'normal', status: 'approved', text })
    expect(bulletin.voice).toContain('south')

    // Schedule it from the same page, for the commune, a little ahead (local time of the province).
    const at = secondsFromNow(30_000)
    const local = localTime(at)
    await page.getByTestId('schedule-bulletin').selectOption(bulletinId)
    await page.getByTestId('schedule-target').selectOption('unit:xa-an-binh')
    await page.getByTestId('schedule-date').fill(local.date)
    await page.getByTestId('schedule-time').fill(local.time)
    await page.getByTestId('schedule-submit').click()
    const created = page.getByTestId('schedule-created')
    await created.waitFor({ timeout: 20_000 })
    const scheduleId = (await created.getAttribute('data-schedule-id')) as string

    // The page counts the clusters that reported playing it; the API's proof of play agrees.
    await expect
      .poll(() => page.getByTestId('schedule-plays').getAttribute('data-count'), {
        timeout: 90_000,
        interval: 1000,
      })
      .toBe('2')
    const { plays } = await h.cp.api<{ plays: Play[] }>('GET', `/api/plays?scheduleId=${scheduleId}`)
    expect(plays.map((p) => p.clusterId).sort()).toEqual(['c-ab-1', 'c-ab-2'])
    for (const p of plays) {
      expect(p.status, `${p.clusterId}: ${p.reason ?? ''}`).toBe('played')
      expect(p.sha256).toBe(bulletin.mediaSha256)
      expect(Math.abs(Date.parse(p.startedAt as string) - at.getTime())).toBeLessThan(1500)
      expect(p.durationMs).toBeGreaterThan(2000)
    }
  })
})
