import fs from 'node:fs'
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core'

/**
 * Debian's Chromium, headless, driven by playwright-core (which never downloads a browser). The flags keep it off
 * the network it would otherwise call home to; playwright gives every launch a new, empty profile.
 */
export const CHROMIUM_PATH = process.env.LOA_CHROMIUM ?? '/usr/bin/chromium'

export async function launchBrowser(): Promise<{ browser: Browser; close(): Promise<void> }> {
  if (!fs.existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM_PATH}: run scripts/setup.sh test (apt-get install chromium)`,
    )
  }
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
    ],
  })
  return {
    browser,
    async close() {
      await browser.close().catch(() => {})
    },
  }
}

/**
 * What the pages of a browser context said and fetched, kept so that a failing browser test can print it: a
 * heading that never appears is otherwise a bare timeout. Records console errors and warnings, page errors,
 * failed requests and every response of 400 or more, with the time since the context was opened; and keeps apart
 * whatever the Content-Security-Policy refused, which tests check is nothing.
 */
export class BrowserLog {
  private readonly lines: string[] = []
  private readonly t0 = Date.now()
  /** What the pages' Content-Security-Policy refused (Chromium says so on the console): should stay empty. */
  readonly cspViolations: string[] = []

  constructor(private readonly limit = 200) {}

  attach(ctx: BrowserContext, label: string): void {
    const at = () => `+${((Date.now() - this.t0) / 1000).toFixed(1)}s ${label}`
    ctx.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') this.add(`${at()} console.${m.type()}: ${m.text()}`)
      if (/Content Security Policy/i.test(m.text())) this.cspViolations.push(`${at()} ${m.text()}`)
    })
    ctx.on('weberror', (e) => this.add(`${at()} page error: ${e.error().stack ?? e.error().message}`))
    ctx.on('requestfailed', (r) =>
      this.add(`${at()} ${r.method()} ${r.url()} failed: ${r.failure()?.errorText}`),
    )
    ctx.on('response', (r) => {
      if (r.status() >= 400) this.add(`${at()} ${r.request().method()} ${r.url()} → ${r.status()}`)
    })
    ctx.on('page', (p) =>
      p.on('framenavigated', (f) => f === p.mainFrame() && this.add(`${at()} → ${f.url()}`)),
    )
  }

  private add(line: string): void {
    this.lines.push(line)
    if (this.lines.length > this.limit) this.lines.shift()
  }

  /** The log, then what each open page shows now (its body text, cut short). */
  async dump(pages: Page[]): Promise<string> {
    const shown = await Promise.all(
      pages
        .filter((p) => !p.isClosed())
        .map(async (p) => {
          const text = await p
            .locator('body')
            .textContent({ timeout: 2_000 })
            .catch((err: Error) => `(unreadable: ${err.message})`)
          return `page ${p.url()}:\n${(text ?? '').replace(/\s+/g, ' ').slice(0, 1_500)}`
        }),
    )
    return ['browser log:', ...this.lines, ...shown].join('\n')
  }
}
