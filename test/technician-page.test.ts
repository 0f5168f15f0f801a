import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { hashPassword } from '@loa/shared/password-hash'
import { makeTone, waitFor } from '@loa/testkit'
import type { Browser, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { type AgentHandle, startAgent } from './harness/agent.js'
import type { ClusterView, Play } from './harness/api-types.js'

import { BrowserLog, launchBrowser } from './harness/browser.js'
import { type ControlPlaneHandle, startControlPlane } from './harness/control-plane.js'
import { seedProvince } from './harness/province.js'
import { REPO_ROOT } from './harness/repo.js'

const PASSWORD = 'mật khẩu kỹ thuật 7'
const CLUSTER = 'c-ab-1'

interface AmpSwitchRow {
  seq: number
  at: string
  on: number
}

// The technician's page in real headless Chromium, served by a real agent process connected to a real control
// plane: log in, test a zone, switch the amplifier on, and it switches itself off, play a local announcement that an
// emergency from the province preempts, and keep working once the province is gone.
describe('technician page in a browser', { timeout: 180_000 }, () => {
  let dir: string
  let cp: ControlPlaneHandle
  let agent: AgentHandle
  let browser: { browser: Browser; close(): Promise<void> }
  let page: Page
  const log = new BrowserLog()

  const ampSwitchLog = (after = 0) =>
    agent.query<AmpSwitchRow>('SELECT seq, at, "on" FROM relay_log WHERE seq > ? ORDER BY seq', after)
  const lastSeq = () => ampSwitchLog().at(-1)?.seq ?? 0
  const zone = (sel: string) => page.locator(`[data-zone="main"] ${sel}`)

  beforeAll(async () => {
    if (!existsSync(resolve(REPO_ROOT, 'edge-agent/dist-web/index.html'))) {
      throw new Error('edge-agent/dist-web is missing: run `npm run build` (it runs build:web) first')
    }
    dir = mkdtempSync(join(tmpdir(), 'loa-e2e-techpage-'))
    cp = await startControlPlane(dir)
    await seedProvince(cp)
    agent = await startAgent(dir, CLUSTER, {
      mqttUrl: cp.mqttUrl,
      controlPlaneUrl: cp.httpUrl,
      technicianPasswordHash: await hashPassword(PASSWORD, { N: 4096 }),
    })
    await agent.process.waitForLog((l) => l.msg === 'technician page listening', 30_000)
    await waitFor(
      async () => {
        const { clusters } = await cp.api<{ clusters: ClusterView[] }>('GET', '/api/clusters')
        return clusters.some((c) => c.id === CLUSTER && c.online)
      },
      30_000,
      'cluster online',
    )
    browser = await launchBrowser()
    // A phone's screen.
    page = await browser.browser.newPage({ viewport: { width: 390, height: 844 } })
    log.attach(page.context(), 'phone')
  })
  let cspSeen = 0
  beforeEach(({ onTestFailed }) => {
    cspSeen = log.cspViolations.length
    onTestFailed(async () => {
      if (page) console.error(await log.dump([page]))
    })
  })
  // The page works under its strict Content-Security-Policy: nothing it does is refused.
  afterEach(() => {
    expect(log.cspViolations.slice(cspSeen), 'Content-Security-Policy violations').toEqual([])
  })

  afterAll(async () => {
    await browser?.close()
    await agent?.stop()
    await cp?.stop()
    if (dir && !process.env.LOA_KEEP_TEST_DIRS) rmSync(dir, { recursive: true, force: true })
  })

  it('logs in: a wrong password gets a clear Vietnamese error, the right one opens the page', async () => {
    await page.goto(agent.localPageUrl)
    await page.fill('#password', 'sai mật khẩu')
    await page.click('button[type=submit]')
    await expect.poll(() => page.locator('#login-error').textContent()).toContain('Sai mật khẩu')
    await page.fill('#password', PASSWORD)
    await page.click('button[type=submit]')
    await page.waitForSelector('#zones [data-zone="main"]')
    await page.waitForSelector('#province[data-connected="true"]')
    // The clock's state is shown (the harness configures the test machine's clock as trusted).
    await page.waitForSelector('#clock[data-state="trusted"]')
    expect(await page.locator('html').getAttribute('lang')).toBe('vi')
    // The session cookie is not readable by scripts and never sent by other sites.
    const [cookie] = await page.context().cookies()
    expect(cookie).toMatchObject({ name: 'loa_tech', httpOnly: true, sameSite: 'Strict' })
  })

  it('tests a zone: the amplifier turns on, the tone plays, the amplifier turns off again', async () => {
    const from = lastSeq()
    await zone('[data-action="test"]').click()
    await page.waitForSelector('[data-zone="main"] [data-relay="on"]', { timeout: 20_000 })
    await page.waitForSelector('#actions [data-kind="tone"][data-status="done"]', { timeout: 30_000 })
    await waitFor(async () => ampSwitchLog(from).length >= 2, 15_000, 'amplifier on then off')
    expect(ampSwitchLog(from).map((r) => r.on)).toEqual([1, 0])
    await page.waitForSelector('[data-zone="main"] [data-relay="off"]', { timeout: 10_000 })
    await waitFor(
      async () => {
        const { plays } = await cp.api<{ plays: (Play & { priority: number; title: string })[] }>(
          'GET',
          `/api/plays?clusterId=${CLUSTER}`,
        )
        return plays.some((p) => p.priority === 120 && p.status === 'played')
      },
      30_000,
      'tone play reported to the province',
    )
  })

  it('switches the amplifier on, and it switches itself off after the time asked', async () => {
    const from = lastSeq()
    await zone('[data-field="relay-seconds"]').fill('3')
    await zone('[data-action="relay-on"]').click()
    await page.waitForSelector('[data-zone="main"] [data-relay="on"]', { timeout: 15_000 })
    await waitFor(async () => ampSwitchLog(from).length >= 2, 30_000, 'amplifier on then off by itself')
    const [on, off] = ampSwitchLog(from)
    expect([on?.on, off?.on]).toEqual([1, 0])
    const held = Date.parse(off?.at ?? '') - Date.parse(on?.at ?? '')
    expect(held).toBeGreaterThanOrEqual(2900)
    expect(held).toBeLessThan(15_000)
    await page.waitForSelector('#actions [data-kind="relay"][data-status="done"]', { timeout: 10_000 })
    await page.waitForSelector('[data-zone="main"] [data-relay="off"]', { timeout: 10_000 })
  })

  it('plays a local announcement that an emergency from the province preempts', async () => {
    const wav = join(dir, 'thong-bao.wav')
    makeTone(wav, 40, 500)
    await page.setInputFiles('#announcement-file', wav)
    await page.click('#announcement-upload')
    await page.waitForSelector('#announcement [data-status="playing"]', { timeout: 30_000 })

    const siren = join(dir, 'siren.wav')
    makeTone(siren, 3, 960)
    const media = await cp.upload(siren, 'canh-bao.wav')
    const { id: bulletinId } = await cp.api<{ id: string }>('POST', '/api/bulletins', {
      title: 'Cảnh báo lũ',
      level: 'emergency',
      mediaSha256: media.sha256,
    })
    const alert = await cp.api<{ id: string }>('POST', '/api/alerts', {
      title: 'Cảnh báo lũ khẩn cấp',
      bulletinId,
      targets: { clusters: [CLUSTER] },
      expiresInS: 600,
    })
    await page.waitForSelector('#announcement [data-status="preempted"]', { timeout: 45_000 })
    // The emergency plays and is acknowledged; the announcement's play is reported interrupted by it.
    await waitFor(
      async () => {
        const v = await cp.api<{ counts: Record<string, number> }>('GET', `/api/alerts/${alert.id}`)
        return (v.counts.done ?? 0) >= 1
      },
      60_000,
      'emergency played',
    )
    const plays = await waitFor(
      async () => {
        const { plays } = await cp.api<{ plays: (Play & { priority: number })[] }>(
          'GET',
          `/api/plays?clusterId=${CLUSTER}`,
        )
        return plays.some((p) => p.priority === 150 && p.status === 'interrupted') ? plays : undefined
      },
      30_000,
      'announcement reported interrupted',
    )
    const announcement = plays.find((p) => p.priority === 150)
    expect(announcement?.reason).toMatch(/preempted/)
    const emergency = plays.find((p) => p.priority >= 200 && p.status === 'played')
    expect(emergency).toBeDefined()
    expect(Date.parse(emergency?.startedAt ?? '')).toBeGreaterThanOrEqual(
      Date.parse(announcement?.endedAt ?? '') - 50,
    )
    // And the technician's action reached the province as an event, with who and what.
    await waitFor(
      async () => {
        const { events } = await cp.api<{ events: { kind: string; data?: Record<string, unknown> }[] }>(
          'GET',
          `/api/events?clusterId=${CLUSTER}&kind=local-action`,
        )
        return events.some(
          (e) =>
            e.data?.kind === 'announcement' && e.data?.outcome === 'preempted' && e.data?.by === 'technician',
        )
      },
      30_000,
      'local-action event at the province',
    )
  })

  it("records an announcement with the phone's microphone and plays it", async () => {
    // Chromium's fake microphone (a beep) stands in for the phone's; 127.0.0.1 is a secure context.
    await page.click('#record')
    await page.waitForSelector('#record-stop')
    await new Promise((r) => setTimeout(r, 2500))
    await page.click('#record-stop')
    await page.waitForSelector('#announcement li:first-child[data-status="playing"]', { timeout: 30_000 })
    await page.waitForSelector('#announcement li:first-child[data-status="done"]', { timeout: 30_000 })
    await waitFor(
      async () => {
        const { plays } = await cp.api<{ plays: (Play & { priority: number })[] }>(
          'GET',
          `/api/plays?clusterId=${CLUSTER}`,
        )
        return plays.some((p) => p.priority === 150 && p.status === 'played' && p.durationMs > 1000)
      },
      30_000,
      'recording reported played',
    )
  })

  it("carries out the province's test command: a tone on the zone, acked received → playing → done", async () => {
    const from = lastSeq()
    const { commandId } = await cp.api<{ commandId: string }>('POST', `/api/clusters/${CLUSTER}/commands`, {
      kind: 'test',
      test: { zone: 'main', seconds: 2, frequencyHz: 700 },
    })
    const stages = async () =>
      (await cp.api<{ acks: { stage: string }[] }>('GET', `/api/commands/${commandId}`)).acks.map(
        (a) => a.stage,
      )
    await waitFor(async () => (await stages()).includes('done'), 30_000, 'test command done')
    expect(await stages()).toEqual(['received', 'playing', 'done'])
    await waitFor(async () => ampSwitchLog(from).length >= 2, 15_000, 'amplifier on then off for the test')
    expect(ampSwitchLog(from).map((r) => r.on)).toEqual([1, 0])
    // The technician sees it on the page too, as the province's.
    await page.waitForSelector('#actions [data-kind="tone"][data-by="province"][data-status="done"]', {
      timeout: 10_000,
    })
  })

  it('keeps working with the control plane stopped', async () => {
    await cp.stop()
    await page.waitForSelector('#province[data-connected="false"]', { timeout: 30_000 })
    const from = lastSeq()
    await page.reload()
    await page.waitForSelector('#zones [data-zone="main"]')
    await zone('[data-action="test"]').click()
    await waitFor(
      async () => ampSwitchLog(from).length >= 2,
      30_000,
      'amplifier on then off without the province',
    )
    await page.click('#lang')
    await page.waitForSelector('text=Technician page')
  })
})
