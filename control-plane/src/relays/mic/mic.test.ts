import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { waitFor } from '@loa/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { countMp3Frames, ffmpegChildren, listen, makeWebm, openMic, paceFile } from '../../../test-kit/mic.js'
import { seedTree, startTestPlane, type TestPlane } from '../../../test-kit/test-helpers.js'

let t: TestPlane
let webm: string

interface LiveView {
  live: { id: string; state: string; sourceUrl: string; endsAt: string | null }
}
const liveOf = async (id: string) => (await t.api<LiveView>('GET', `/api/lives/${id}`)).body.live
const activeLives = async () =>
  (await t.api<{ lives: { id: string }[] }>('GET', '/api/lives?state=active')).body.lives
const START = { type: 'start', title: 'Xã A thông báo', targets: { units: ['xa-a'] } }

beforeAll(async () => {
  t = await startTestPlane({ micLimits: { idleMs: 2000, maxSessions: 3, maxBytesBeforeOutput: 64 * 1024 } })
  await seedTree(t)
  webm = makeWebm(t.dir, 'speech.webm', { seconds: 4 })
}, 60_000)
afterAll(async () => {
  await t?.close()
})

describe('microphone sessions', { timeout: 60_000 }, () => {
  it('transcodes WebM/Opus to MP3 for two listeners, relays it, and stops cleanly', async () => {
    const mic = await openMic(t.cp.httpUrl, t.adminHeaders)
    mic.ws.send(JSON.stringify(START))
    const started = await mic.next('started')
    expect(started.targetCount).toBe(2) // c-a and c-a1 (in thon-a1 under xa-a)
    const live = await liveOf(started.liveId as string)
    expect(live.state).toBe('active')
    expect(live.sourceUrl).toMatch(
      new RegExp(`^${t.cp.httpUrl}/live-mic/${started.sessionId}/[0-9a-f]{32}\\.mp3$`),
    )
    expect(live.endsAt).not.toBeNull() // ends on the agents even if this control plane dies

    const [a, b] = await Promise.all([listen(live.sourceUrl), listen(live.sourceUrl)])
    expect([a?.status, b?.status]).toEqual([200, 200])
    await paceFile(mic, webm, 1000, 40)
    await waitFor(
      () => (a?.bytes().length ?? 0) > 8000 && (b?.bytes().length ?? 0) > 8000,
      10_000,
      'mp3 at both',
    )

    // What came out is MP3 that ffmpeg decodes: frames, mono, about as long as what was sent.
    const out = path.join(t.dir, 'heard.mp3')
    fs.writeFileSync(out, a?.bytes() as Buffer)
    expect(countMp3Frames(a?.bytes() as Buffer)).toBeGreaterThan(50)
    const probe = execFileSync('ffprobe', [
      '-v',
      'error',
      '-show_entries',
      'stream=codec_name,channels',
      '-of',
      'csv=p=0',
      out,
    ])
    expect(probe.toString().trim()).toBe('mp3,1')

    mic.ws.send(JSON.stringify({ type: 'stop' }))
    expect((await mic.next('ended')).reason).toBe('stopped')
    await waitFor(
      async () => (await liveOf(started.liveId as string)).state === 'stopped',
      10_000,
      'relay stopped',
    )
    await waitFor(() => a?.ended && b?.ended, 10_000, 'listeners ended')
    await waitFor(() => ffmpegChildren() === 0, 10_000, 'no ffmpeg left')
    // The capability URL dies with the session.
    expect((await fetch(live.sourceUrl)).status).toBe(404)
    const audit = await t.api<{ entries: { action: string; targetId: string | null }[] }>(
      'GET',
      '/api/audit?limit=50',
    )
    const actions = audit.body.entries.filter((e) => e.targetId === started.liveId).map((e) => e.action)
    expect(actions).toEqual(expect.arrayContaining(['live.mic.start', 'live.mic.stop']))
  })

  it('answers 404 to a wrong token or an unknown session', async () => {
    const mic = await openMic(t.cp.httpUrl, t.adminHeaders)
    mic.ws.send(JSON.stringify(START))
    const started = await mic.next('started')
    const url = (await liveOf(started.liveId as string)).sourceUrl
    const wrong = url.replace(/[0-9a-f]{32}\.mp3$/, `${randomBytes(16).toString('hex')}.mp3`)
    expect((await fetch(wrong)).status).toBe(404)
    expect((await fetch(url.replace(/\.mp3$/, '.aac'))).status).toBe(404)
    expect((await fetch(url.replace(/m-[0-9a-f-]+/, 'm-nope'))).status).toBe(404)
    mic.close()
    await waitFor(
      async () => (await liveOf(started.liveId as string)).state === 'stopped',
      10_000,
      'relay stopped on close',
    )
  })

  it('refuses the unauthenticated, viewers, other origins and targets outside the scope', async () => {
    expect((await openMic(t.cp.httpUrl, {})).refusedStatus).toBe(401)
    const viewer = await t.tokenFor('viewer', null)
    expect((await openMic(t.cp.httpUrl, { authorization: `Bearer ${viewer}` })).refusedStatus).toBe(403)
    const cross = await openMic(t.cp.httpUrl, { ...t.adminHeaders, origin: 'https://evil.example' })
    expect(cross.refusedStatus).toBe(403)
    const communeB = await t.tokenFor('commune-operator', 'xa-b')
    const mic = await openMic(t.cp.httpUrl, { authorization: `Bearer ${communeB}` })
    mic.ws.send(JSON.stringify(START))
    expect(await mic.next('error')).toMatchObject({ code: 'LOA_FORBIDDEN' })
    const bad = await openMic(t.cp.httpUrl, t.adminHeaders)
    bad.ws.send(JSON.stringify({ ...START, priority: 250 }))
    expect(await bad.next('error')).toMatchObject({ code: 'LOA_MIC_INVALID' })
    expect(await activeLives()).toEqual([])
    // The refused start is in the audit log, as refused relays are.
    const audit = await t.api<{ entries: { action: string; outcome: number }[] }>(
      'GET',
      '/api/audit?limit=50',
    )
    expect(audit.body.entries.filter((e) => e.action === 'live.mic.start').map((e) => e.outcome)).toEqual(
      expect.arrayContaining([403, 400]),
    )
  })

  for (const [what, garbage] of [
    ['not WebM at all', randomBytes(4000)],
    [
      'a WebM header followed by garbage',
      Buffer.concat([Buffer.from([0x1a, 0x45, 0xdf, 0xa3]), randomBytes(8000)]),
    ],
  ] as const) {
    it(`ends with a clear error on ${what}, stopping the relay`, async () => {
      const mic = await openMic(t.cp.httpUrl, t.adminHeaders)
      mic.ws.send(JSON.stringify(START))
      const started = await mic.next('started')
      // As a broken client would: more of it until the session ends (ffmpeg may wait for a resync instead of failing).
      for (let i = 0; i < 100 && !mic.messages.some((m) => m.type === 'ended'); i++) {
        mic.sendAudio(i === 0 ? garbage : randomBytes(4000))
        await new Promise((r) => setTimeout(r, 100))
      }
      const end = await mic.next('ended')
      expect(end).toMatchObject({ reason: 'error', code: 'LOA_MIC_NOT_AUDIO' })
      expect(end.message).toMatch(/WebM|decoded/)
      await waitFor(
        async () => (await liveOf(started.liveId as string)).state === 'stopped',
        10_000,
        'relay stopped',
      )
      await waitFor(() => mic.closed, 10_000, 'socket closed')
      await waitFor(() => ffmpegChildren() === 0, 10_000, 'no ffmpeg left')
    })
  }

  it('ends an idle session (no audio for the idle time) and stops its relay', async () => {
    const mic = await openMic(t.cp.httpUrl, t.adminHeaders)
    mic.ws.send(JSON.stringify(START))
    const started = await mic.next('started')
    const t0 = Date.now()
    const end = await mic.next('ended')
    expect(end).toMatchObject({ reason: 'idle', code: 'LOA_MIC_IDLE' })
    expect(Date.now() - t0).toBeGreaterThan(1000)
    await waitFor(
      async () => (await liveOf(started.liveId as string)).state === 'stopped',
      10_000,
      'relay stopped',
    )
    await waitFor(() => ffmpegChildren() === 0, 10_000, 'no ffmpeg left')
  })

  it('ends the session when the relay is stopped from elsewhere', async () => {
    const mic = await openMic(t.cp.httpUrl, t.adminHeaders)
    mic.ws.send(JSON.stringify(START))
    const started = await mic.next('started')
    expect((await t.api('POST', `/api/lives/${started.liveId}/stop`)).status).toBe(200)
    expect((await mic.next('ended')).reason).toBe('relay-stopped')
    await waitFor(() => ffmpegChildren() === 0, 10_000, 'no ffmpeg left')
  })

  it('refuses a session beyond the concurrent limit', async () => {
    const open = []
    for (let i = 0; i < 3; i++) {
      const m = await openMic(t.cp.httpUrl, t.adminHeaders)
      m.ws.send(JSON.stringify(START))
      await m.next('started')
      open.push(m)
    }
    const extra = await openMic(t.cp.httpUrl, t.adminHeaders)
    extra.ws.send(JSON.stringify(START))
    expect(await extra.next('error')).toMatchObject({ code: 'LOA_MIC_LIMIT' })
    for (const m of open) m.close()
    await waitFor(async () => (await activeLives()).length === 0, 10_000, 'all relays stopped')
    await waitFor(() => ffmpegChildren() === 0, 10_000, 'no ffmpeg left')
  })
})
