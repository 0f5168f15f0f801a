import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ConsoleHarness, printBrowserLogOnFailure, startConsoleHarness } from './harness/console.js'

/**
 * Stored XSS (docs/security.md, "Browser pages"): a unit name holding markup is shown as text on the dashboard's
 * map (Leaflet tooltips take HTML when given a string), runs nothing, and is refused at the API in the first
 * place; the page carries a strict Content-Security-Policy and breaks none of it (the harness fails any test
 * during which the browser reported a CSP violation).
 */

const HOSTILE = 'Xã <img src=x onerror="window.__loaXss=1"><b>Hòa Phú</b>'

describe('web console: user-provided names are text', { timeout: 180_000 }, () => {
  let h: ConsoleHarness
  printBrowserLogOnFailure(() => h)

  beforeAll(async () => {
    h = await startConsoleHarness()
    // The API refuses such a name (below); one stored before that rule existed, or written by other means, is
    // put straight into the database the running control plane reads.
    const db = new Database(join(h.cp.dataDir, 'loa.db'))
    try {
      db.prepare('UPDATE units SET name = ? WHERE id = ?').run(HOSTILE, 'xa-hoa-phu')
      db.prepare('UPDATE clusters SET name = ? WHERE id = ?').run(`Cụm ${HOSTILE}`, 'c-hp-1')
    } finally {
      db.close()
    }
  }, 150_000)
  afterAll(async () => {
    await h?.close()
  })

  it('shows a markup unit name as text on the dashboard map tooltip, and runs nothing', async () => {
    const page = await h.open('admin', '/')
    await page.getByTestId('cluster-map').waitFor()
    const tooltip = page.locator('.leaflet-tooltip.map-group', { hasText: 'Hòa Phú' })
    await tooltip.waitFor()
    // The name, character for character, with no element made from it.
    expect(await tooltip.textContent()).toBe(HOSTILE)
    expect(await tooltip.locator('img, b').count()).toBe(0)
    // Elsewhere on the page neither (the tables of communes and clusters show it as text too).
    await page.getByTestId('communes').getByText(HOSTILE).waitFor()
    expect(await page.locator('img[src="x"]').count()).toBe(0)
    expect(await page.locator('b', { hasText: 'Hòa Phú' }).count()).toBe(0)
    expect(await page.evaluate('window.__loaXss')).toBeUndefined()
  })

  it('refuses markup in a unit name at the API with a 400 that names the field', async () => {
    const res = await h.cp.apiRaw('POST', '/api/units', {
      id: 'thon-xss',
      name: '<img src=x onerror=alert(1)>',
      kind: 'village',
      parentId: 'xa-an-binh',
    })
    expect(res.status).toBe(400)
    const body = (await res.json()) as { code: string; message: string }
    expect(body.code).toBe('LOA_VALIDATION')
    expect(body.message).toMatch(/^name: must be plain text/)
    expect((await h.cp.apiRaw('GET', '/api/units/thon-xss')).status).toBe(404)
  })

  it('serves the page and its API with a strict Content-Security-Policy', async () => {
    for (const path of ['/', '/api/units']) {
      const res = await h.cp.fetch(path)
      const csp = res.headers.get('content-security-policy') ?? ''
      expect(csp, path).toContain("script-src 'self'")
      expect(csp, path).toContain("style-src 'self'")
      expect(csp, path).toContain("object-src 'none'")
      expect(csp, path).toContain("frame-ancestors 'none'")
      expect(csp, path).not.toContain('unsafe-inline')
      expect(res.headers.get('x-content-type-options'), path).toBe('nosniff')
      expect(res.headers.get('x-frame-options'), path).toBe('DENY')
    }
  })
})
