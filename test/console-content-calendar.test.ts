import { join } from 'node:path'
import { makeTone } from '@loa/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Play } from './harness/api-types.js'

import { type ConsoleHarness, printBrowserLogOnFailure, startConsoleHarness } from './harness/console.js'
import { localTime, secondsFromNow } from './harness/schedule.js'

// A commune operator schedules a bulletin from the week calendar and sees it played by the simulated agents; a
// second bulletin scheduled over it shows as a conflict until it is moved away.
describe('web console: week calendar', { timeout: 180_000 }, () => {
  let h: ConsoleHarness
  printBrowserLogOnFailure(() => h)
  const bulletins: Record<'morning' | 'notice', string> = { morning: '', notice: '' }

  beforeAll(async () => {
    h = await startConsoleHarness({ agents: ['c-ab-1', 'c-ab-2'] })
    for (const [key, seconds, hz] of [
      ['morning', 8, 440],
      ['notice', 3, 660],
    ] as const) {
      const wav = join(h.dir, `${key}.wav`)
      makeTone(wav, seconds, hz)
      const media = await h.cp.upload(wav)
      const b = await h.cp.api<{ id: string }>('POST', '/api/bulletins', {
        title: key === 'morning' ? 'Bản tin sáng' : 'Thông báo họp dân',
        level: 'normal',
        mediaSha256: media.sha256,
      })
      bulletins[key] = b.id
    }
  }, 150_000)
  afterAll(async () => {
    await h?.close()
  }, 60_000)

  it('schedules from the calendar, shows the conflict, moves it away, and the agents play', async () => {
    const at = secondsFromNow(45_000)
    const local = localTime(at)
    // The week holding that instant (near midnight on a Sunday it is next week's).
    const page = await h.open('anBinh', `/calendar?target=unit:xa-an-binh&week=${local.date}`)
    const day = page.locator(`.day[data-date="${local.date}"]`)

    const schedule = async (bulletinId: string, time: string) => {
      await day.getByTestId('cal-add').click()
      const form = page.getByTestId('schedule-form')
      await form.getByTestId('schedule-bulletin').selectOption(bulletinId)
      await form.getByTestId('schedule-time').fill(time)
      await form.getByTestId('schedule-submit').click()
      const created = form.getByTestId('schedule-created')
      await created.waitFor({ timeout: 20_000 })
      return (await created.getAttribute('data-schedule-id')) as string
    }
    const morningId = await schedule(bulletins.morning, local.time)
    await expect.poll(() => day.getByTestId('cal-occurrence').count(), { timeout: 20_000 }).toBe(1)
    expect(await day.getByTestId('cal-occurrence').getAttribute('data-conflict')).toBe('false')

    // The notice starts 3 s into the 8 s morning bulletin, on the same clusters: a conflict on both.
    const overlapping = localTime(new Date(at.getTime() + 3000)).time
    const noticeId = await schedule(bulletins.notice, overlapping)
    await expect
      .poll(() => day.locator('[data-testid=cal-occurrence][data-conflict=true]').count(), {
        timeout: 20_000,
      })
      .toBe(2)
    await expect.poll(() => page.getByTestId('cal-conflict').count()).toBeGreaterThan(0)

    // Move the notice an hour later: no conflict left.
    await day.locator(`[data-testid=cal-occurrence][data-id="${noticeId}"]`).click()
    const panel = page.getByTestId('cal-panel')
    const later = localTime(new Date(at.getTime() + 3_600_000))
    await panel.getByTestId('cal-move-date').fill(later.date)
    await panel.getByTestId('cal-move-time').fill(later.time)
    await panel.getByTestId('cal-move').click()
    await expect
      .poll(() => page.locator('[data-testid=cal-occurrence][data-conflict=true]').count(), {
        timeout: 20_000,
      })
      .toBe(0)
    expect(await page.getByTestId('cal-conflict').count()).toBe(0)

    // The agents play the morning bulletin at its time.
    await expect
      .poll(
        async () => {
          const r = await h.cp.api<{ plays: Play[] }>('GET', `/api/plays?scheduleId=${morningId}`)
          return r.plays.filter((p: Play) => p.status === 'played').length
        },
        { timeout: 90_000, interval: 1000 },
      )
      .toBe(2)
    const { plays: morning } = await h.cp.api<{ plays: Play[] }>('GET', `/api/plays?scheduleId=${morningId}`)
    expect(morning.map((p) => p.clusterId).sort()).toEqual(['c-ab-1', 'c-ab-2'])
    for (const p of morning)
      expect(Math.abs(Date.parse(p.startedAt as string) - at.getTime())).toBeLessThan(1500)
  })
})
