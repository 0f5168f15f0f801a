import { spawn } from 'node:child_process'
import fs from 'node:fs'
import { liveInputArgs } from '@loa/edge-agent/testing'
import { waitFor } from '@loa/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeWebm, openMic, paceFile } from '../control-plane/test-kit/mic.js'
import { type ConsoleHarness, printBrowserLogOnFailure, startConsoleHarness } from './harness/console.js'

interface LiveView {
  live: { id: string; state: string; sourceUrl: string }
  counts: Record<'targeted' | 'playing' | 'cancelled' | 'pending', number>
}

// A commune operator speaks from the browser's (fake) microphone: Chromium's fake device produces a tone, the
// control plane transcodes it and relays it, the commune's simulated agents play it, and Stop ends it on them.
describe('web console: speaking live from the microphone', { timeout: 180_000 }, () => {
  let h: ConsoleHarness
  printBrowserLogOnFailure(() => h)

  beforeAll(async () => {
    h = await startConsoleHarness({ agents: ['c-ab-1', 'c-ab-2'] })
  }, 150_000)
  afterAll(async () => {
    await h?.close()
  }, 60_000)

  it('speaks to a commune, the agents play it, and Stop ends it on them', async () => {
    const page = await h.open('anBinh', '/live', { width: 375, height: 800 })
    const panel = page.getByTestId('mic-panel')
    await panel.waitFor()
    // http://127.0.0.1 is a secure context: no "HTTPS needed" message.
    expect(await page.getByTestId('mic-unsupported').count()).toBe(0)
    await page.getByTestId('mic-title').fill('Xã An Bình thông báo')
    await page.getByTestId('mic-target').selectOption('unit:xa-an-binh')
    const clicked = Date.now()
    await page.getByTestId('mic-start').click()

    await expect.poll(() => panel.getAttribute('data-phase'), { timeout: 30_000 }).toBe('live')
    // The fake microphone's tone moves the level meter.
    await expect
      .poll(async () => Number(await page.getByTestId('mic-level').getAttribute('data-level')), {
        timeout: 20_000,
      })
      .toBeGreaterThan(0.01)
    // Both agents of the commune report the relay as playing (the village cluster has no agent).
    await expect
      .poll(() => panel.getByTestId('ack-playing').textContent(), { timeout: 60_000, interval: 500 })
      .toBe('2')
    console.log(`mic: start click → both agents playing in ${Date.now() - clicked} ms`)
    const { lives } = await h.cp.api<{ lives: { id: string; sourceUrl: string }[] }>(
      'GET',
      '/api/lives?state=active',
    )
    expect(lives).toHaveLength(1)
    const liveId = lives[0]?.id as string
    expect(lives[0]?.sourceUrl).toMatch(/\/live-mic\/m-[0-9a-f-]+\/[0-9a-f]{32}\.mp3$/)
    await waitFor(
      async () => (await h.cp.api<LiveView>('GET', `/api/lives/${liveId}`)).counts.playing === 2,
      30_000,
      'the API counting both playing',
    )
    // The active list shows the relay, not its capability URL.
    await expect
      .poll(() => page.getByTestId('live-item').textContent())
      .toContain('Micrô của bảng điều khiển')
    // The time on air runs.
    await expect
      .poll(async () => /^\s*\d\d:\d\d$/.test((await page.getByTestId('mic-elapsed').textContent()) ?? ''))
      .toBe(true)
    await expect.poll(() => page.getByTestId('mic-elapsed').textContent()).not.toContain('00:00')

    await page.getByTestId('mic-stop').click()
    await expect.poll(() => panel.getAttribute('data-phase'), { timeout: 20_000 }).toBe('idle')
    expect(await page.getByTestId('mic-end').textContent()).toContain('Đã dừng phát trực tiếp')
    await waitFor(
      async () => (await h.cp.api<LiveView>('GET', `/api/lives/${liveId}`)).live.state === 'stopped',
      30_000,
      'the relay stopped',
    )
    // The agents stop: both acknowledge the relay as cancelled.
    await waitFor(
      async () => (await h.cp.api<LiveView>('GET', `/api/lives/${liveId}`)).counts.cancelled === 2,
      30_000,
      'both agents cancelled',
    )
    // And the audit log has the operator's start and stop.
    const audit = await h.cp.api<{ entries: { action: string; actorName: string }[] }>(
      'GET',
      '/api/audit?limit=50',
    )
    const mine = audit.entries.filter((e) => e.action.startsWith('live.mic.'))
    expect(mine.map((e) => e.action).sort()).toEqual(['live.mic.start', 'live.mic.stop'])
    expect(mine[0]?.actorName).toBe('Cán bộ xã An Bình')
  })

  it('says why when the page is not a secure context', async () => {
    const page = await h.open('anBinh', '/')
    // Only the flag the browser sets over plain HTTP differs; everything else is the real page.
    await page.addInitScript(() => Object.defineProperty(globalThis, 'isSecureContext', { value: false }))
    await page.goto('/live')
    await expect.poll(() => page.getByTestId('mic-unsupported').textContent()).toContain('HTTPS')
    expect(await page.getByTestId('mic-start').count()).toBe(0)
  })

  // Not an assertion: how long a sound takes from the browser's socket to an agent's decoder, with the agent's
  // own input options (liveInputArgs). MediaRecorder's timeslice and the agent's output buffer come on top.
  it('measures the latency from the ingest to an agent decoding it', async () => {
    const seconds = 9
    const file = makeWebm(h.dir, 'beeps.webm', { seconds, beeps: true })
    const size = fs.statSync(file).size
    const mic = await openMic(h.cp.httpUrl, h.cp.authHeaders)
    mic.ws.send(JSON.stringify({ type: 'start', title: 'Đo độ trễ', targets: { clusters: ['c-hp-1'] } }))
    const started = await mic.next('started')
    const { live } = await h.cp.api<LiveView>('GET', `/api/lives/${started.liveId}`)
    const RATE = 8000
    const rx = spawn(
      'ffmpeg',
      ['-hide_banner', '-nostdin', '-loglevel', 'error', ...liveInputArgs(live.sourceUrl, 8000)].concat([
        '-f',
        's16le',
        '-ac',
        '1',
        '-ar',
        String(RATE),
        '-flush_packets',
        '1',
        'pipe:1',
      ]),
      { stdio: ['ignore', 'pipe', 'ignore'] },
    )
    // Beep onsets in the decoded audio (loud after ≥ 0.3 s of quiet, counted in samples), at wall-clock arrival.
    const heard: number[] = []
    let quietSamples = RATE
    const spawnedAt = Date.now()
    let firstAudioAt = 0
    rx.stdout.on('data', (d: Buffer) => {
      firstAudioAt ||= Date.now()
      for (let i = 0; i + 1 < d.length; i += 2) {
        if (Math.abs(d.readInt16LE(i)) < 4000) quietSamples++
        else {
          if (quietSamples > 0.3 * RATE) heard.push(Date.now())
          quietSamples = 0
        }
      }
    })
    // As MediaRecorder: a chunk every 250 ms; the CBR file makes a byte offset proportional to a time.
    const chunk = Math.round((size / seconds) * 0.25)
    const sent: number[] = [] // when the chunk holding each onset (1 s, 2 s, …) went out
    await paceFile(mic, file, chunk, 250, (off) => {
      for (let k = sent.length + 1; k < seconds; k++) {
        if (off + chunk > size * (k / seconds)) sent.push(Date.now())
        else break
      }
    })
    await waitFor(() => heard.length >= 5, 20_000, 'the beeps decoded')
    // The first beeps heard may be missing (the agent joins mid-stream): match the last ones.
    const pairs = Math.min(heard.length, sent.length)
    const lat = heard.slice(-pairs).map((t, i) => t - (sent.slice(-pairs)[i] as number))
    const sorted = [...lat].sort((a, b) => a - b)
    console.log(
      `mic latency: socket → agent decoder, median ${sorted[Math.floor(sorted.length / 2)]} ms ` +
        `(${sorted[0]}–${sorted[sorted.length - 1]} ms over ${lat.length} beeps); ` +
        `agent ffmpeg spawn → first decoded audio ${firstAudioAt - spawnedAt} ms`,
    )
    expect(lat.length).toBeGreaterThanOrEqual(5)
    mic.ws.send(JSON.stringify({ type: 'stop' }))
    await mic.next('ended')
    rx.kill('SIGKILL')
  })
})
