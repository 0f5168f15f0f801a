import { join } from 'node:path'
import { makeTone } from '@loa/testkit'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import {
  type ConsoleHarness,
  printBrowserLogOnFailure,
  startConsoleHarness,
  TEST_PASSWORD,
} from './harness/console.js'

const MEDIA = `/media/${'0'.repeat(64)}`

/** A device's HTTP Basic media request: 404 = authenticated (no such file), 401 = refused. */
const mediaStatus = async (h: ConsoleHarness, clusterId: string, password: string) =>
  (
    await fetch(`${h.cp.httpUrl}${MEDIA}`, {
      headers: { authorization: `Basic ${Buffer.from(`${clusterId}:${password}`).toString('base64')}` },
    })
  ).status

const bearerStatus = async (h: ConsoleHarness, token: string, path = '/api/clusters') =>
  (await fetch(`${h.cp.httpUrl}${path}`, { headers: { authorization: `Bearer ${token}` } })).status

/** Confirms the open dialog (after checking what it names). */
const confirmDialog = async (page: Page, names: string) => {
  const dialog = page.locator('dialog[open]')
  await dialog.waitFor()
  expect(await dialog.textContent()).toContain(names)
  await dialog.getByTestId('confirm').click()
  await dialog.waitFor({ state: 'detached' })
}

const navKeys = async (page: Page) => {
  await page.locator('nav.side a').first().waitFor()
  return page.locator('nav.side a').evaluateAll((as) => as.map((a) => a.getAttribute('data-nav')))
}

const noSideScroll = (page: Page) =>
  page.evaluate('document.documentElement.scrollWidth <= window.innerWidth')

// The administration pages in real Chromium against a real control plane: API tokens, unit settings, a cluster's
// device credential, the signing keys; each action checked by what the API then does.
describe('web console: administration pages', { timeout: 240_000 }, () => {
  let h: ConsoleHarness
  printBrowserLogOnFailure(() => h)

  beforeAll(async () => {
    h = await startConsoleHarness()
    // An administrator scoped to one commune (the harness's admin has the whole province).
    await h.cp.api('POST', '/api/users', {
      username: 'quan-tri-xa',
      displayName: 'Quản trị xã An Bình',
      role: 'province-admin',
      scopeUnitId: 'xa-an-binh',
      password: TEST_PASSWORD,
    })
  }, 150_000)
  afterAll(async () => {
    await h?.close()
  })

  it('an admin creates a token: the secret works once shown, is never shown again, and revoking it refuses it', async () => {
    const page = await h.open('admin', '/tokens', { width: 375, height: 800 })
    await page.getByTestId('tokens-page').waitFor()
    expect(await noSideScroll(page)).toBe(true)
    await page.getByTestId('add-token').click()
    await page.getByLabel('Tên (dùng cho việc gì)').fill('Kịch bản An Bình')
    await page.getByLabel('Vai trò').selectOption('province-operator')
    // The whole province is offered to this admin; the token is given one commune.
    const scope = page.getByLabel('Phạm vi')
    expect(await scope.locator('option[value=""]').count()).toBe(1)
    await scope.selectOption('xa-an-binh')
    await page.getByRole('button', { name: 'Tạo mới' }).click()
    const secret = (await page.getByTestId('token-secret').textContent()) ?? ''
    expect(secret).toMatch(/^loa_[a-z0-9]+_/)
    expect(await page.getByTestId('token-secret-box').textContent()).toContain('Chỉ hiện MỘT LẦN')
    expect(await noSideScroll(page)).toBe(true)

    // The secret works, with the role and scope chosen in the form.
    const res = await fetch(`${h.cp.httpUrl}/api/clusters`, {
      headers: { authorization: `Bearer ${secret}` },
    })
    expect(res.status).toBe(200)
    const { clusters } = (await res.json()) as { clusters: { id: string }[] }
    expect(clusters.map((c) => c.id).sort()).toEqual(['c-ab-1', 'c-ab-2', 'c-ab-thon-1'])

    // Listed, and after a reload the secret is nowhere: not in the page, not in the API's list.
    const row = page.getByTestId('tokens').locator('tbody tr', { hasText: 'Kịch bản An Bình' })
    await row.waitFor()
    expect(await row.textContent()).toContain('Xã An Bình')
    await page.reload()
    await row.waitFor()
    expect(await page.getByTestId('token-secret').count()).toBe(0)
    expect(await page.content()).not.toContain(secret.slice(-20))
    const list = await (await page.request.get('/api/tokens')).text()
    expect(list).not.toContain(secret.slice(-20))

    await row.getByTestId('revoke-token').click()
    await confirmDialog(page, 'Kịch bản An Bình')
    await expect.poll(() => row.textContent(), { timeout: 15_000 }).toContain('Đã thu hồi')
    expect(await bearerStatus(h, secret)).toBe(401)
  })

  it('a commune-scoped admin is offered only its scope; the API refuses the rest anyway', async () => {
    const page = await h.browser.newPage({ baseURL: h.cp.httpUrl })
    try {
      const login = await page.request.post('/api/auth/login', {
        data: { username: 'quan-tri-xa', password: TEST_PASSWORD },
      })
      expect(login.ok()).toBe(true)
      await page.goto('/tokens')
      await page.getByTestId('add-token').click()
      const options = await page
        .getByLabel('Phạm vi')
        .locator('option')
        .evaluateAll((os) => os.map((o) => o.getAttribute('value')))
      expect(options.sort()).toEqual(['thon-1', 'xa-an-binh'])
      const refused = await page.request.post('/api/tokens', {
        data: { name: 'ngoài phạm vi', role: 'viewer', scopeUnitId: 'xa-hoa-phu' },
      })
      expect(refused.status()).toBe(403)
      // The signing key concerns the whole province: listed, not rotatable.
      await page.goto('/signing-keys')
      await page.getByTestId('keys').waitFor()
      expect(await page.getByTestId('rotate-key').count()).toBe(0)
      expect(await page.getByTestId('keys-page').textContent()).toContain(
        'Chỉ quản trị viên toàn tỉnh mới đổi được khóa ký.',
      )
      // In English too.
      await page.getByTestId('lang-toggle').click()
      await page.getByRole('heading', { name: 'Command signing keys' }).waitFor()
      expect(await page.getByTestId('keys-page').textContent()).toContain(
        'Only a whole-province administrator can rotate the signing key.',
      )
    } finally {
      await page.context().close()
    }
  })

  it('a commune operator has no tokens page and cannot see another commune’s settings (page and API)', async () => {
    const page = await h.open('anBinh', '/')
    const keys = await navKeys(page)
    expect(keys).toContain('units')
    expect(keys).not.toContain('tokens')
    expect(keys).not.toContain('signing-keys')
    await page.goto('/tokens')
    await page.getByTestId('forbidden').waitFor()
    expect((await page.request.get('/api/tokens')).status()).toBe(403)

    // Its own commune's settings, read-only.
    await page.goto('/units')
    const own = page.getByTestId('unit-settings')
    await own.waitFor()
    expect(await own.getAttribute('data-unit')).toBe('xa-an-binh')
    expect(await own.locator('input[name=requiresApproval]').isDisabled()).toBe(true)
    expect(await page.getByTestId('save-settings').count()).toBe(0)
    const picker = await page
      .getByLabel('Chọn đơn vị')
      .locator('option')
      .evaluateAll((os) => os.map((o) => o.getAttribute('value')))
    expect(picker.sort()).toEqual(['thon-1', 'xa-an-binh'])

    await page.goto('/units?unit=xa-hoa-phu')
    await page.getByTestId('not-found').waitFor()
    expect(await page.getByTestId('unit-settings').count()).toBe(0)
    expect((await page.request.get('/api/units/xa-hoa-phu/settings')).status()).toBe(404)
    const put = await page.request.put('/api/units/xa-an-binh/settings', {
      data: { requiresApproval: false },
    })
    expect(put.status()).toBe(403)
  })

  it('turning approval on for a unit in the page makes its new bulletins drafts; off again, approved', async () => {
    const wav = join(h.dir, 'ban-tin.wav')
    makeTone(wav, 1)
    const media = await h.cp.upload(wav, 'ban-tin.wav')
    const bulletin = async () =>
      (
        await h.cp.api<{ status: string }>('POST', '/api/bulletins', {
          title: 'Bản tin Hòa Phú',
          level: 'normal',
          mediaSha256: media.sha256,
          unitId: 'xa-hoa-phu',
        })
      ).status
    expect(await bulletin()).toBe('approved')

    const page = await h.open('admin', '/units?unit=xa-hoa-phu', { width: 375, height: 800 })
    const card = page.getByTestId('unit-settings')
    await card.waitFor()
    expect(await card.getAttribute('data-unit')).toBe('xa-hoa-phu')
    expect(await noSideScroll(page)).toBe(true)
    const box = card.locator('input[name=requiresApproval]')
    expect(await box.isChecked()).toBe(false)
    // A bad slot is refused in words, nothing is saved.
    await card.locator('input[name=slots]').fill('06:00, 25:00')
    await page.getByTestId('save-settings').click()
    await card.getByText('Giờ không hợp lệ: "25:00"').waitFor()
    await card.locator('input[name=slots]').fill('06:00, 17:30')
    await box.check()
    await page.getByTestId('save-settings').click()
    await expect
      .poll(async () => h.cp.api<{ requiresApproval: boolean }>('GET', '/api/units/xa-hoa-phu/settings'), {
        timeout: 15_000,
      })
      .toMatchObject({ requiresApproval: true, slots: ['06:00', '17:30'] })
    expect(await bulletin()).toBe('draft')

    await page.reload()
    await box.waitFor()
    expect(await box.isChecked()).toBe(true)
    await box.uncheck()
    await page.getByTestId('save-settings').click()
    await expect
      .poll(
        async () =>
          (await h.cp.api<{ requiresApproval: boolean }>('GET', '/api/units/xa-hoa-phu/settings'))
            .requiresApproval,
        {
          timeout: 15_000,
        },
      )
      .toBe(false)
    expect(await bulletin()).toBe('approved')
  })

  it('sets and removes a unit’s fallback programme from the page; a bad window is refused in words', async () => {
    const wav = join(h.dir, 'nen.wav')
    makeTone(wav, 1)
    const media = await h.cp.upload(wav, 'nen.wav')
    const b = await h.cp.api<{ id: string; status: string }>('POST', '/api/bulletins', {
      title: 'Nhạc nền An Bình',
      level: 'normal',
      mediaSha256: media.sha256,
      unitId: 'xa-an-binh',
    })
    expect(b.status).toBe('approved')
    const fallbackStatus = async () => (await h.cp.apiRaw('GET', '/api/units/xa-an-binh/fallback')).status

    // A commune operator (permission content) edits its own commune's fallback.
    const page = await h.open('anBinh', '/units', { width: 375, height: 800 })
    const form = page.getByTestId('fallback-form')
    await form.waitFor()
    expect(await page.getByTestId('fallback-summary').textContent()).toBe('Chưa đặt.')
    await form.locator(`input[name=bulletin][value="${b.id}"]`).check()
    await form.getByLabel('Khung giờ').fill('07:00-05:00')
    await page.getByTestId('save-fallback').click()
    await form.getByText('Khung giờ không hợp lệ: "07:00-05:00"').waitFor()
    expect(await fallbackStatus()).toBe(404)

    await form.getByLabel('Khung giờ').fill('05:00-07:00, 17:00-19:00')
    await form.getByLabel('CN', { exact: true }).uncheck()
    await form.getByLabel('Âm lượng (%)').fill('60')
    await page.getByTestId('save-fallback').click()
    const weekdays = [1, 2, 3, 4, 5, 6]
    await expect
      .poll(async () => (await h.cp.apiRaw('GET', '/api/units/xa-an-binh/fallback')).json(), {
        timeout: 15_000,
      })
      .toMatchObject({
        bulletinIds: [b.id],
        windows: [
          { daysOfWeek: weekdays, from: '05:00', until: '07:00' },
          { daysOfWeek: weekdays, from: '17:00', until: '19:00' },
        ],
        volume: 60,
      })
    await expect.poll(() => page.getByTestId('fallback-summary').textContent()).toContain('05:00–07:00')
    expect(await noSideScroll(page)).toBe(true)
    // Another commune's fallback is out of reach.
    const other = await page.request.put('/api/units/xa-hoa-phu/fallback', {
      data: { bulletinIds: [b.id], windows: [] },
    })
    expect(other.status()).toBe(404)

    await page.getByTestId('remove-fallback').click()
    await confirmDialog(page, 'Xã An Bình')
    await expect.poll(fallbackStatus, { timeout: 15_000 }).toBe(404)
    await expect.poll(() => page.getByTestId('fallback-summary').textContent()).toBe('Chưa đặt.')
  })

  it('rotating a cluster’s credential in the page refuses the old password and accepts the new; revoke refuses it', async () => {
    const old = await h.cp.api<{ password: string }>('POST', '/api/clusters/c-hp-1/credentials')
    expect(await mediaStatus(h, 'c-hp-1', old.password)).toBe(404)

    const page = await h.open('admin', '/clusters/c-hp-1')
    const section = page.getByTestId('credentials')
    await section.waitFor()
    expect(await section.getAttribute('data-state')).toBe('active')
    await page.getByTestId('rotate-credential').click()
    await confirmDialog(page, 'loa devices rotate c-hp-1')
    const password = (await page.getByTestId('device-password').textContent()) ?? ''
    expect(password.length).toBeGreaterThan(16)
    expect(await section.textContent()).toContain('mqtt.password')
    await expect.poll(() => page.getByTestId('cred-generation').textContent()).toBe('2')
    expect(await mediaStatus(h, 'c-hp-1', old.password)).toBe(401)
    expect(await mediaStatus(h, 'c-hp-1', password)).toBe(404)

    // Shown once: gone after a reload.
    await page.reload()
    await section.waitFor()
    expect(await page.getByTestId('device-password').count()).toBe(0)

    await page.getByTestId('revoke-credential').click()
    const { name } = await h.cp.api<{ name: string }>('GET', '/api/clusters/c-hp-1')
    await confirmDialog(page, name)
    await expect.poll(() => section.getAttribute('data-state'), { timeout: 15_000 }).toBe('revoked')
    expect(await mediaStatus(h, 'c-hp-1', password)).toBe(401)

    // A commune operator's cluster page has no credentials section, and the API refuses it.
    const op = await h.open('anBinh', '/clusters/c-ab-1')
    await op.getByTestId('cluster-page').waitFor()
    expect(await op.getByTestId('credentials').count()).toBe(0)
    expect((await op.request.post('/api/clusters/c-ab-1/credentials')).status()).toBe(403)
  })

  it('a province admin rotates the signing key from the page, after confirming', async () => {
    const before = await h.cp.api<{ current: string }>('GET', '/api/signing-keys')
    const page = await h.open('admin', '/signing-keys')
    await page.getByTestId('keys').locator('tbody tr', { hasText: before.current }).waitFor()
    await page.getByTestId('rotate-key').click()
    // Cancelling does nothing.
    await page.locator('dialog[open]').getByRole('button', { name: 'Hủy' }).click()
    expect((await h.cp.api<{ current: string }>('GET', '/api/signing-keys')).current).toBe(before.current)
    await page.getByTestId('rotate-key').click()
    await confirmDialog(page, 'Đổi khóa ký')
    const after = await h.cp.api<{ current: string; keys: unknown[] }>('GET', '/api/signing-keys')
    expect(after.current).not.toBe(before.current)
    await page.getByTestId('keys').locator('tbody tr', { hasText: after.current }).waitFor()
    expect(await page.getByTestId('keys').locator('tbody tr').count()).toBe(after.keys.length)
  })
})
