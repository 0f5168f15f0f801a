import { join } from 'node:path'
import { makeTone } from '@loa/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { type ConsoleHarness, printBrowserLogOnFailure, startConsoleHarness } from './harness/console.js'

interface Delivery {
  id: string
  bulletinId: string
  state: string
  reason: string | null
}
interface Programme {
  id: string
  items: { bulletinId: string }[]
}

// Circular 39 in the console: the province sends bulletins down; the commune accepts one and declines one in its
// inbox, finds the priority one already placed ahead in its programme and reorders it; a draft made in a commune
// that requires approval is approved by someone else.
describe('web console: inbox and approval', { timeout: 180_000 }, () => {
  let h: ConsoleHarness
  printBrowserLogOnFailure(() => h)
  let sha = ''
  const ids: Record<'normal1' | 'normal2' | 'priority', string> = { normal1: '', normal2: '', priority: '' }

  beforeAll(async () => {
    h = await startConsoleHarness()
    const wav = join(h.dir, 'tin.wav')
    makeTone(wav, 3)
    sha = (await h.cp.upload(wav, 'tin-tinh.wav')).sha256
    for (const [key, title, level] of [
      ['normal1', 'Tin tỉnh: lịch tiêm chủng', 'normal'],
      ['normal2', 'Tin tỉnh: quảng cáo hội chợ', 'normal'],
      ['priority', 'Tin tỉnh: phòng chống bão', 'priority'],
    ] as const) {
      const b = await h.cp.api<{ id: string }>('POST', '/api/bulletins', {
        title,
        level,
        mediaSha256: sha,
        unitId: 'tinh-thu',
      })
      ids[key] = b.id
      await h.cp.api('POST', `/api/bulletins/${b.id}/send`, { toUnitIds: ['xa-an-binh'] })
    }
  }, 150_000)
  afterAll(async () => {
    await h?.close()
  }, 60_000)

  it('accepts, declines with a reason, and reorders the programme', async () => {
    const page = await h.open('anBinh', '/inbox', { width: 375, height: 800 })
    const pending = page.getByTestId('inbox-pending')
    await expect.poll(() => pending.count(), { timeout: 20_000 }).toBe(2)

    await pending.filter({ hasText: 'lịch tiêm chủng' }).getByTestId('inbox-accept').click()
    await expect.poll(() => pending.count()).toBe(1)
    const fair = pending.filter({ hasText: 'hội chợ' })
    await fair.getByTestId('inbox-decline').click()
    await fair.getByTestId('inbox-reason').fill('Không phù hợp với địa phương')
    await fair.getByTestId('inbox-decline-confirm').click()
    await expect.poll(() => pending.count()).toBe(0)

    const { deliveries } = await h.cp.api<{ deliveries: Delivery[] }>('GET', '/api/inbox?unitId=xa-an-binh')
    const state = (id: string) => deliveries.find((d) => d.bulletinId === id)
    expect(state(ids.normal1)?.state).toBe('accepted')
    expect(state(ids.normal2)).toMatchObject({ state: 'declined', reason: 'Không phù hợp với địa phương' })
    expect(state(ids.priority)?.state).toBe('accepted')

    // One programme at the next slot: the priority bulletin was put ahead of the accepted normal one.
    const programme = page.getByTestId('programme')
    await expect.poll(() => programme.count(), { timeout: 20_000 }).toBe(1)
    const order = () =>
      programme
        .locator('li[data-bulletin-id]')
        .evaluateAll((els) => els.map((e) => e.getAttribute('data-bulletin-id')))
    expect(await order()).toEqual([ids.priority, ids.normal1])

    // The commune moves its own bulletin first.
    await programme.getByRole('button', { name: 'Xuống' }).first().click()
    await expect.poll(order).toEqual([ids.normal1, ids.priority])
    const { programmes } = await h.cp.api<{ programmes: Programme[] }>(
      'GET',
      '/api/programmes?unitId=xa-an-binh',
    )
    expect(programmes[0]?.items.map((i) => i.bulletinId)).toEqual([ids.normal1, ids.priority])
  })

  it('a draft waits for someone else to approve it', async () => {
    await h.cp.api('PUT', '/api/units/xa-an-binh/settings', { requiresApproval: true })
    const commune = await h.open('anBinh', '/bulletins')
    await commune.getByText('Tạo bản tin từ âm thanh có sẵn').click()
    await commune.locator('#nb-media').selectOption(sha)
    await commune.locator('#nb-title').fill('Thông báo của xã')
    await commune.getByRole('button', { name: 'Tạo bản tin', exact: true }).click()
    const mine = commune.locator('li.bulletin', { hasText: 'Thông báo của xã' })
    await expect
      .poll(() => mine.locator('[data-status]').getAttribute('data-status'), { timeout: 20_000 })
      .toBe('draft')
    // Its author is not offered approval (the API would refuse it anyway).
    expect(await mine.getByTestId('bulletin-approve').count()).toBe(0)

    const province = await h.open('province', '/bulletins')
    const same = province.locator('li.bulletin', { hasText: 'Thông báo của xã' })
    await same.getByTestId('bulletin-approve').click()
    await expect.poll(() => same.locator('[data-status]').getAttribute('data-status')).toBe('approved')
    const { bulletins } = await h.cp.api<{ bulletins: { title: string; status: string; unitId: string }[] }>(
      'GET',
      '/api/bulletins',
    )
    expect(bulletins.find((b) => b.title === 'Thông báo của xã')).toMatchObject({
      status: 'approved',
      unitId: 'xa-an-binh',
    })

    // The province sees what the commune did with what it sent.
    await province
      .locator('li.bulletin', { hasText: 'hội chợ' })
      .getByRole('button', { name: 'Gửi xuống cấp dưới' })
      .click()
    const sent = province.getByTestId('send-panel').getByTestId('deliveries')
    await expect.poll(() => sent.textContent(), { timeout: 20_000 }).toContain('Xã An Bình: đã từ chối')
    expect(await sent.textContent()).toContain('Không phù hợp với địa phương')
  })
})
