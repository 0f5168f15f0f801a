import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { waitFor } from '@loa/testkit'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterEach, beforeEach, expect } from 'vitest'
import { type AgentHandle, startAgent } from './agent.js'
import type { ClusterView } from './api-types.js'
import { BrowserLog, launchBrowser } from './browser.js'
import { type ControlPlaneHandle, startControlPlane } from './control-plane.js'
import { type Cluster, seedProvince } from './province.js'
import { REPO_ROOT } from './repo.js'

/** One password for every test account (long enough for the control plane's minimum). */
export const TEST_PASSWORD = 'mat-khau-thu-nghiem-2026'

/** Test accounts, one per role; commune operators in each of the seeded communes. */
export const CONSOLE_USERS = {
  admin: {
    username: 'quan-tri',
    displayName: 'Quản trị tỉnh',
    role: 'province-admin',
    scopeUnitId: 'tinh-thu',
  },
  province: {
    username: 'van-hanh-tinh',
    displayName: 'Vận hành tỉnh',
    role: 'province-operator',
    scopeUnitId: 'tinh-thu',
  },
  anBinh: {
    username: 'xa-an-binh',
    displayName: 'Cán bộ xã An Bình',
    role: 'commune-operator',
    scopeUnitId: 'xa-an-binh',
  },
  hoaPhu: {
    username: 'xa-hoa-phu',
    displayName: 'Cán bộ xã Hòa Phú',
    role: 'commune-operator',
    scopeUnitId: 'xa-hoa-phu',
  },
  viewer: { username: 'chi-xem', displayName: 'Người xem', role: 'viewer', scopeUnitId: 'tinh-thu' },
} as const
export type ConsoleUser = keyof typeof CONSOLE_USERS

export interface ConsoleHarness {
  dir: string
  cp: ControlPlaneHandle
  province: { inAnBinh: Cluster[]; inHoaPhu: Cluster[] }
  agents: Map<string, AgentHandle>
  browser: Browser
  /** A new browser context logged in as `user` (through the login API, so the cookie is the real one), at `path`. */
  open(user: ConsoleUser, path?: string, viewport?: { width: number; height: number }): Promise<Page>
  /** A new, logged-out browser context at `path`. */
  openAnonymous(path?: string, viewport?: { width: number; height: number }): Promise<Page>
  /** The browser log (errors, failed and refused requests, navigations) and what every open page shows. */
  diagnose(): Promise<string>
  /** What the Content-Security-Policy refused on any page so far. */
  cspViolations(): string[]
  close(): Promise<void>
}

/**
 * Call at the top of a describe: when one of its tests fails, the browser log is printed with the failure; and a
 * test during which a page did something the Content-Security-Policy refused fails (the console must work with it).
 */
export function printBrowserLogOnFailure(harness: () => ConsoleHarness | undefined): void {
  let seen = 0
  beforeEach(({ onTestFailed }) => {
    seen = harness()?.cspViolations().length ?? 0
    onTestFailed(async () => {
      const h = harness()
      if (h) console.error(await h.diagnose())
    })
  })
  afterEach(() => {
    const during = harness()?.cspViolations().slice(seen) ?? []
    expect(during, 'Content-Security-Policy violations').toEqual([])
  })
}

export interface ConsoleHarnessOptions {
  /** Clusters to run simulated agents for (default none); waits until they are online and in sync. */
  agents?: string[]
  env?: Record<string, string>
}

/**
 * The whole console stack for browser tests: a control-plane process (with its built web console), the seeded
 * province, one user per role created through the users API, optional simulated agents, and headless Chromium.
 */
export async function startConsoleHarness(opts: ConsoleHarnessOptions = {}): Promise<ConsoleHarness> {
  if (!existsSync(join(REPO_ROOT, 'control-plane/dist-web/index.html'))) {
    throw new Error(
      'the web console is not built: run npm run build (or npm run build:web -w @loa/control-plane)',
    )
  }
  const dir = mkdtempSync(join(tmpdir(), 'loa-console-'))
  const cp = await startControlPlane(dir, opts.env ?? {})
  const contexts: BrowserContext[] = []
  const log = new BrowserLog()
  const agents = new Map<string, AgentHandle>()
  let browser: Awaited<ReturnType<typeof launchBrowser>> | null = null
  try {
    const province = await seedProvince(cp)
    for (const u of Object.values(CONSOLE_USERS)) {
      await cp.api('POST', '/api/users', { ...u, password: TEST_PASSWORD })
    }
    for (const id of opts.agents ?? []) {
      agents.set(id, await startAgent(dir, id, { mqttUrl: cp.mqttUrl, controlPlaneUrl: cp.httpUrl }))
    }
    if (agents.size > 0) {
      await waitFor(
        async () => {
          const { clusters } = await cp.api<{ clusters: ClusterView[] }>('GET', '/api/clusters')
          const ready = clusters.filter(
            (c) => agents.has(c.id) && c.online && c.appliedVersion === c.desiredVersion,
          )
          return ready.length === agents.size
        },
        30_000,
        'the agents online and in sync',
      )
    }
    browser = await launchBrowser()
    const b = browser
    const newContext = async (viewport?: { width: number; height: number }) => {
      const ctx = await b.browser.newContext({
        baseURL: cp.httpUrl,
        viewport: viewport ?? { width: 1280, height: 900 },
      })
      contexts.push(ctx)
      log.attach(ctx, `context ${contexts.length}`)
      return ctx
    }
    const harness: ConsoleHarness = {
      dir,
      cp,
      province,
      agents,
      browser: b.browser,
      async open(user, path = '/', viewport) {
        const ctx = await newContext(viewport)
        const res = await ctx.request.post('/api/auth/login', {
          data: { username: CONSOLE_USERS[user].username, password: TEST_PASSWORD },
        })
        if (!res.ok()) throw new Error(`login as ${user} → ${res.status()}: ${await res.text()}`)
        const page = await ctx.newPage()
        await page.goto(path)
        return page
      },
      async openAnonymous(path = '/', viewport) {
        const page = await (await newContext(viewport)).newPage()
        await page.goto(path)
        return page
      },
      diagnose() {
        return log.dump(contexts.flatMap((c) => c.pages()))
      },
      cspViolations() {
        return [...log.cspViolations]
      },
      async close() {
        for (const c of contexts) await c.close().catch(() => {})
        await b.close()
        await Promise.all([...agents.values()].map((a) => a.stop()))
        await cp.stop()
        if (!process.env.LOA_KEEP_TEST_DIRS) rmSync(dir, { recursive: true, force: true })
      },
    }
    return harness
  } catch (err) {
    await browser?.close()
    await Promise.all([...agents.values()].map((a) => a.stop()))
    await cp.stop()
    throw err
  }
}
