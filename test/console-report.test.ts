import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { makeTone, waitFor } from '@loa/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Play } from './harness/api-types.js'

import { type ConsoleHarness, printBrowserLogOnFailure, startConsoleHarness } from './harness/console.js'
import { localTime, secondsFromNow } from './harness/schedule.js'

/** RFC 4180 rows (quoted fields, doubled quotes, CRLF or LF), without a leading BOM. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = []
  let row: string[] = []
  let field = ''
  let quoted = false
  const s = text.replace(/^\uFEFF/, '')
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string
    if (quoted) {
      if (c === '"' && s[i + 1] === '"') {
        field += '"'
        i++
      } else if (c === '"') quoted = false
      else field += c
    } else if (c === '"') quoted = true
    else if (c === ',') {
      row.push(field)
      field = ''
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && s[i + 1] === '\n') i++
      row.push(field)
      rows.push(row)
      row = []
      field = ''
    } else field += c
  }
  if (field !== '' || row.length > 0) rows.push([...row, field])
  return rows
}

const COMMUNE_OF: Record<string, string> = {
  'c-ab-1': 'Xã An Bình',
  'c-ab-2': 'Xã An Bình',
  'c-ab-thon-1': 'Xã An Bình',
  'c-hp-1': 'Xã Hòa Phú',
}

// Simulated agents play scheduled bulletins; the report page's CSV, downloaded by the browser, carries the
// numbers of plays the control plane recorded.
describe('web console: report export matches the plays', { timeout: 180_000 }, () => {
  let h: ConsoleHarness
  printBrowserLogOnFailure(() => h)

  beforeAll(async () => {
    h = await startConsoleHarness({ agents: ['c-ab-1', 'c-ab-2', 'c-hp-1'] })
    const wav = join(h.dir, 'ban-tin.wav')
    makeTone(wav, 2, 440)
    const media = await h.cp.upload(wav, 'ban-tin-sang.wav')
    const bulletin = await h.cp.api<{ id: string }>('POST', '/api/bulletins', {
      title: 'Bản tin sáng',
      level: 'normal',
      mediaSha256: media.sha256,
    })
    // An Bình's two running clusters play twice (commune + province), Hòa Phú's once (province): 5 plays.
    await h.cp.api('POST', '/api/schedules', {
      title: 'Bản tin xã An Bình',
      bulletinId: bulletin.id,
      recurrence: { kind: 'once', at: secondsFromNow(8_000).toISOString() },
      targets: { units: ['xa-an-binh'] },
    })
    await h.cp.api('POST', '/api/schedules', {
      title: 'Bản tin tỉnh',
      bulletinId: bulletin.id,
      recurrence: { kind: 'once', at: secondsFromNow(16_000).toISOString() },
      targets: { units: ['tinh-thu'] },
    })
    await waitFor(
      async () => {
        const { plays } = await h.cp.api<{ plays: Play[] }>('GET', '/api/plays')
        return plays.filter((p) => p.status === 'played' && !p.fallback).length >= 5
      },
      90_000,
      'five plays recorded',
      500,
    )
  }, 150_000)
  afterAll(async () => {
    await h?.close()
  })

  it('the CSV downloaded from the report page has the recorded plays per commune and in total', async () => {
    const { plays } = await h.cp.api<{ plays: Play[] }>('GET', '/api/plays')
    const played = plays.filter((p) => p.status === 'played' && !p.fallback)
    const perCommune = new Map<string, number>()
    for (const p of played) {
      const commune = COMMUNE_OF[p.clusterId] as string
      perCommune.set(commune, (perCommune.get(commune) ?? 0) + 1)
    }
    expect(played.length).toBe(5)

    const today = localTime(new Date()).date
    const page = await h.open('admin', `/reports?unitId=tinh-thu&from=${today}&to=${today}`)
    await page.getByTestId('report-table').waitFor()
    await expect
      .poll(() => page.getByTestId('total-successfulPlays').textContent(), { timeout: 15_000 })
      .toBe(String(played.length))

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByTestId('report-csv').click(),
    ])
    const csv = parseCsv(await readFile((await download.path()) as string, 'utf8'))
    const header = csv[0] as string[]
    const col = header.findIndex((h) => /thành công/i.test(h))
    expect(col, `a "successful plays" column in ${header.join(' | ')}`).toBeGreaterThan(0)
    const rowOf = (name: string) => csv.find((r) => r.some((cell) => cell === name))
    for (const [commune, n] of perCommune) {
      expect(Number(rowOf(commune)?.[col]), commune).toBe(n)
    }
    const total = csv.find((r) => r.some((cell) => /^(tổng|tổng cộng)$/i.test(cell.trim())))
    expect(Number(total?.[col])).toBe(played.length)

    // The yearly report is one click away and counts the same plays (they are all this year).
    await page.getByTestId('yearly-report').click()
    await expect
      .poll(() => page.getByTestId('report-title').textContent(), { timeout: 15_000 })
      .toContain(String(new Date().getFullYear()))
    await expect
      .poll(() => page.getByTestId('total-successfulPlays').textContent(), { timeout: 15_000 })
      .toBe(String(played.length))
  })

  it('the dashboard shows the running clusters online, the silent one as an alert, and all four on the map', async () => {
    const page = await h.open('province', '/')
    // Playing clusters count as playing until their next heartbeat (every 5 s here) says the bulletin ended.
    await expect.poll(() => page.getByTestId('count-online').textContent(), { timeout: 20_000 }).toBe('3')
    expect(await page.getByTestId('count-offline').textContent()).toBe('1')
    expect(await page.getByTestId('count-total').textContent()).toBe('4')
    // c-ab-thon-1 never connected: an alert that links to its page.
    const alert = page.getByTestId('alerts').locator('li[data-cluster="c-ab-thon-1"]')
    expect(await alert.textContent()).toContain('chưa từng kết nối')
    // Four markers (and one frame per commune) on the tile-less map.
    await expect
      .poll(() => page.locator('.leaflet-overlay-pane path.leaflet-interactive').count(), { timeout: 15_000 })
      .toBe(6)
    await alert.getByRole('link').click()
    await page.getByTestId('cluster-page').waitFor()
    expect(page.url()).toContain('/clusters/c-ab-thon-1')
  })
})
