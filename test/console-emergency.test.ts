import { join } from 'node:path'
import { makeTone, waitFor } from '@loa/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Play } from './harness/api-types.js'

import { type ConsoleHarness, printBrowserLogOnFailure, startConsoleHarness } from './harness/console.js'

interface AlertView {
  alert: { id: string; state: string }
  counts: Record<'targeted' | 'received' | 'playing' | 'done' | 'failed' | 'cancelled' | 'pending', number>
  clusters: { clusterId: string; stage: string }[]
}

// A commune operator raises an emergency from the console's guarded page (target preview with the number of
// clusters, confirmation), watches the acknowledgements of real agents arrive live, and cancels it.
describe('web console: emergency with live acknowledgements', { timeout: 180_000 }, () => {
  let h: ConsoleHarness
  printBrowserLogOnFailure(() => h)
  let bulletinTitle: string

  beforeAll(async () => {
    // c-ab-thon-1 has no agent: targeted but never acknowledging (it stays pending).
    h = await startConsoleHarness({ agents: ['c-ab-1', 'c-ab-2', 'c-hp-1'] })
    const wav = join(h.dir, 'siren.wav')
    makeTone(wav, 25, 880)
    const media = await h.cp.upload(wav, 'coi-bao-dong.wav')
    bulletinTitle = 'Cảnh báo lũ quét'
    await h.cp.api('POST', '/api/bulletins', {
      title: bulletinTitle,
      level: 'emergency',
      mediaSha256: media.sha256,
    })
  }, 150_000)
  afterAll(async () => {
    await h?.close()
  })

  it('raises for the commune, shows acknowledgements as they arrive, and cancels', async () => {
    const page = await h.open('anBinh', '/emergency')
    await page.getByTestId('emergency-start').click()
    await page.getByTestId('emergency-title').fill('Lũ quét thôn 1 — sơ tán ngay')
    await page.getByTestId('emergency-bulletin').selectOption({ label: bulletinTitle })
    await page.getByTestId('emergency-target').selectOption('unit:xa-an-binh')
    await page.getByTestId('emergency-preview').click()
    // The preview names how many clusters will sound: the commune's three (a village's included), not Hòa Phú's.
    await expect
      .poll(() => page.getByTestId('emergency-cluster-count').textContent(), { timeout: 15_000 })
      .toBe('3')
    const raise = page.getByTestId('emergency-raise')
    expect(await raise.isDisabled()).toBe(true) // guarded until confirmed
    await page.getByTestId('emergency-confirm').check()
    await raise.click()

    const live = page.getByTestId('emergency-live')
    await live.waitFor()
    const alertId = (await live.getAttribute('data-alert-id')) as string
    expect(alertId).toBeTruthy()
    await expect.poll(() => page.getByTestId('ack-targeted').textContent(), { timeout: 20_000 }).toBe('3')
    // Both running agents start playing; the page's count follows the API's.
    await expect
      .poll(() => page.getByTestId('ack-playing').textContent(), { timeout: 45_000, interval: 250 })
      .toBe('2')
    const view = await h.cp.api<AlertView>('GET', `/api/alerts/${alertId}`)
    expect(view.counts.targeted).toBe(3)
    expect(view.counts.playing).toBe(2)
    expect(view.clusters.map((c) => c.clusterId).sort()).toEqual(['c-ab-1', 'c-ab-2', 'c-ab-thon-1'])

    // Cancel takes two presses (no dialog to miss on a phone), then the clusters acknowledge it.
    await page.getByTestId('emergency-cancel').click()
    await page.getByTestId('emergency-cancel').click()
    await expect
      .poll(() => page.getByTestId('emergency-state').getAttribute('data-state'), { timeout: 15_000 })
      .toBe('cancelled')
    await waitFor(
      async () => {
        const v = await h.cp.api<AlertView>('GET', `/api/alerts/${alertId}`)
        return v.alert.state === 'cancelled' && v.counts.playing === 0
      },
      30_000,
      'the alert cancelled on the API',
    )

    // Hòa Phú's cluster never played it.
    const { plays } = await h.cp.api<{ plays: (Play & { title: string })[] }>(
      'GET',
      '/api/plays?clusterId=c-hp-1',
    )
    expect(plays.filter((p) => p.title.includes('Lũ quét'))).toEqual([])
  })
})
