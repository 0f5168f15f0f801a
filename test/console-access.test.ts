import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  CONSOLE_USERS,
  type ConsoleHarness,
  printBrowserLogOnFailure,
  startConsoleHarness,
  TEST_PASSWORD,
} from './harness/console.js'

/** Cluster ids in the dashboard's cluster table. */
const listedClusters = async (page: Page) => {
  await page.getByTestId('clusters').waitFor()
  return (await page
    .getByTestId('clusters')
    .locator('tbody tr[data-key]')
    .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-key')))) as string[]
}

// The console in real Chromium against a real control plane: logging in, the scope of a commune operator
// (enforced by the API, seen in the pages), role-gated pages, and the dashboard on a 375 px phone.
describe('web console: login, scope and phone', { timeout: 180_000 }, () => {
  let h: ConsoleHarness
  printBrowserLogOnFailure(() => h)

  beforeAll(async () => {
    h = await startConsoleHarness()
  }, 150_000)
  afterAll(async () => {
    await h?.close()
  })

  it('logs in; a wrong password shows a clear Vietnamese error; language toggles; logout ends the session', async () => {
    const page = await h.openAnonymous('/')
    await page.getByLabel('Tên đăng nhập').fill(CONSOLE_USERS.admin.username)
    await page.getByLabel('Mật khẩu').fill('sai-mat-khau-roi')
    await page.getByRole('button', { name: 'Đăng nhập' }).click()
    await expect
      .poll(() => page.getByTestId('login-error').textContent(), { timeout: 15_000 })
      .toBe('Sai tên đăng nhập hoặc mật khẩu.')
    // The password field is emptied; the username stays.
    expect(await page.getByLabel('Mật khẩu').inputValue()).toBe('')

    await page.getByLabel('Mật khẩu').fill(TEST_PASSWORD)
    await page.getByRole('button', { name: 'Đăng nhập' }).click()
    await page.getByRole('heading', { name: 'Tổng quan' }).waitFor()
    expect(await page.getByTestId('scope').textContent()).toBe('Tỉnh Thử')
    expect(await page.getByTestId('count-total').textContent()).toBe('4')

    await page.getByTestId('lang-toggle').click()
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor()
    // The choice is kept across a reload.
    await page.reload()
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor()
    await page.getByTestId('lang-toggle').click()
    await page.getByRole('heading', { name: 'Tổng quan' }).waitFor()

    await page.getByTestId('logout').click()
    await page.getByRole('button', { name: 'Đăng nhập' }).waitFor()
    // The cookie is gone server-side too: the API refuses it.
    const res = await page.request.get('/api/clusters')
    expect(res.status()).toBe(401)
  })

  it('a commune operator sees only its commune, and cannot reach another commune by page or API', async () => {
    const page = await h.open('anBinh', '/')
    expect(await page.getByTestId('scope').textContent()).toBe('Xã An Bình')
    expect((await listedClusters(page)).sort()).toEqual(['c-ab-1', 'c-ab-2', 'c-ab-thon-1'])
    const communes = await page.getByTestId('communes').locator('tbody tr').allTextContents()
    expect(communes.join('\n')).not.toContain('Hòa Phú')

    // Its own cluster opens…
    await page.goto('/clusters/c-ab-thon-1')
    await page.getByTestId('cluster-page').waitFor()
    // …another commune's is "not found", as if it did not exist.
    await page.goto('/clusters/c-hp-1')
    await page.getByTestId('not-found').waitFor()
    expect(await page.getByTestId('cluster-page').count()).toBe(0)
    const api = await page.request.get('/api/clusters/c-hp-1')
    expect(api.status()).toBe(404)
    const plays = await page.request.get('/api/plays?clusterId=c-hp-1')
    expect(JSON.stringify(await plays.json())).not.toContain('"clusterId":"c-hp-1"')

    // The other commune's operator, the mirror image.
    const other = await h.open('hoaPhu', '/')
    expect(await listedClusters(other)).toEqual(['c-hp-1'])
    await other.goto('/clusters/c-ab-1')
    await other.getByTestId('not-found').waitFor()
  })

  it('role-gated pages: a viewer has no users or audit page, an administrator has both', async () => {
    const viewer = await h.open('viewer', '/users')
    await viewer.getByTestId('forbidden').waitFor()
    const nav = await viewer.locator('nav.side a').evaluateAll((as) => as.map((a) => a.getAttribute('href')))
    expect(nav).not.toContain('/users')
    expect(nav).not.toContain('/audit')
    expect((await viewer.request.get('/api/users')).status()).toBe(403)

    const admin = await h.open('admin', '/users')
    await admin.getByTestId('users').waitFor()
    const names = await admin.getByTestId('users').locator('tbody tr').allTextContents()
    for (const u of Object.values(CONSOLE_USERS)) expect(names.join('\n')).toContain(u.username)
    await admin.goto('/audit')
    await admin.getByTestId('audit').waitFor()
    // Creating the test users was recorded, and is said in words.
    const created = admin.getByTestId('audit').locator('[data-action="user.create"]')
    expect(await created.count()).toBeGreaterThanOrEqual(Object.keys(CONSOLE_USERS).length)
    expect(await created.first().textContent()).toBe('Tạo người dùng')
  })

  it('an administrator adds a commune operator from the users page, who can then log in to that commune', async () => {
    const admin = await h.open('admin', '/users')
    await admin.getByTestId('add-user').click()
    const form = admin.getByTestId('new-user')
    await form.getByLabel('Tên đăng nhập').fill('can-bo-moi')
    await form.getByLabel('Họ tên').fill('Cán bộ mới')
    await form.getByLabel('Vai trò').selectOption('commune-operator')
    await form.getByLabel('Phạm vi (đơn vị)').selectOption('xa-hoa-phu')
    await form.getByLabel('Mật khẩu').fill('mat-khau-can-bo-moi')
    await form.getByRole('button', { name: 'Tạo mới' }).click()
    await admin.getByTestId('users').getByText('can-bo-moi').waitFor()
    const { users } = await h.cp.api<{ users: { username: string; role: string; scopeUnitId: string }[] }>(
      'GET',
      '/api/users',
    )
    expect(users.find((u) => u.username === 'can-bo-moi')).toMatchObject({
      role: 'commune-operator',
      scopeUnitId: 'xa-hoa-phu',
    })

    const page = await h.openAnonymous('/')
    await page.getByLabel('Tên đăng nhập').fill('can-bo-moi')
    await page.getByLabel('Mật khẩu').fill('mat-khau-can-bo-moi')
    await page.getByRole('button', { name: 'Đăng nhập' }).click()
    expect(await listedClusters(page)).toEqual(['c-hp-1'])
  })

  it('the dashboard fits a 375 px phone: no horizontal scroll, the menu opens', async () => {
    const page = await h.open('admin', '/', { width: 375, height: 740 })
    await page.getByTestId('clusters').waitFor()
    await page.getByTestId('cluster-map').waitFor()
    await page.locator('.leaflet-container').waitFor()
    // (Strings: the test project has no DOM types.)
    const widths = (await page.evaluate(
      '({ scroll: document.documentElement.scrollWidth, body: document.body.scrollWidth, inner: window.innerWidth })',
    )) as { scroll: number; body: number; inner: number }
    expect(widths.scroll).toBeLessThanOrEqual(widths.inner)
    expect(widths.body).toBeLessThanOrEqual(widths.inner)
    // The nav is hidden behind the menu button on a phone.
    expect(await page.locator('nav.side').isVisible()).toBe(false)
    await page.getByRole('button', { name: 'Danh mục' }).click()
    await page.locator('nav.side').getByRole('link', { name: 'Nhật ký' }).click()
    await page.getByTestId('audit').waitFor()
    expect(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true)
  })
})
