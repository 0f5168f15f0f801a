import fs from 'node:fs'
import { type Browser, chromium } from 'playwright-core'

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
