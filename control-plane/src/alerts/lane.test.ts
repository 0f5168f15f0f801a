import fs from 'node:fs'
import path from 'node:path'
import { makeTone, waitFor } from '@loa/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type CmdSpy, spyCommands } from '../../test-kit/alerts.js'
import { currentCap, seedCommuneA } from '../../test-kit/media.js'
import { makeAudio, startTestPlane, type TestPlane } from '../../test-kit/test-helpers.js'

/**
 * An emergency never waits behind ordinary media work: with both ordinary slots taken by long uploads (real
 * ffmpeg, real HTTP), alerts whose audio must be made (API text, CAP speech, an alert audio upload) are raised and
 * published while those uploads are still being transcoded.
 */

let t: TestPlane
let spy: CmdSpy

/** Real HTTP upload as the test's province admin; `settled` tells whether the answer has come. */
function upload(url: string, bytes: Buffer, name: string, token = t.adminToken) {
  const form = new FormData()
  form.append('file', new Blob([new Uint8Array(bytes)]), name)
  const state = { settled: false, status: 0, body: {} as Record<string, unknown> }
  const done = fetch(`${t.cp.httpUrl}${url}`, {
    method: 'POST',
    body: form,
    headers: { authorization: `Bearer ${token}` },
  })
    .then(async (r) => {
      state.status = r.status
      state.body = (await r.json()) as Record<string, unknown>
    })
    .catch(() => {})
    .finally(() => {
      state.settled = true
    })
  return { state, done }
}

async function post(url: string, body: string, contentType: string) {
  const r = await fetch(`${t.cp.httpUrl}${url}`, {
    method: 'POST',
    body,
    headers: { authorization: `Bearer ${t.adminToken}`, 'content-type': contentType },
  })
  return { status: r.status, body: (await r.json()) as Record<string, unknown> }
}

/** Minutes of silence: a few KB of FLAC, but measuring their loudness costs tens of CPU seconds. */
function longSilence(name: string, minutes: number): Buffer {
  const file = makeTone(path.join(t.dir, name), minutes * 60, 0, {
    source: 'anullsrc=r=8000:cl=mono',
    args: ['-c:a', 'flac', '-frame_size', '65535'],
  })
  return fs.readFileSync(file)
}

async function ordinaryRunning(): Promise<number> {
  const m = await t.api<string>('GET', '/metrics')
  const line = /^loa_media_jobs\{lane="ordinary",state="running"\} (\d+)$/m.exec(m.body)
  return Number(line?.[1] ?? 0)
}

const alertCommand = (ackId: unknown) =>
  spy.seen.find((s) => s.body.commandId === ackId && s.body.kind === 'alert')

beforeAll(async () => {
  // Long uploads are allowed here: they are what saturates the ordinary lane.
  t = await startTestPlane({ maxMediaSeconds: 7200, mediaSlots: 2, alertMediaSlots: 1, mediaJobsPerOwner: 2 })
  await seedCommuneA(t)
  spy = await spyCommands(t)
})
afterAll(async () => {
  await spy?.close()
  // Closing kills the ordinary transcodes still running.
  await t?.close()
})

describe('alerts with text', () => {
  const mediaCount = async () => (await t.api<{ media: unknown[] }>('GET', '/api/media')).body.media.length

  it('refuses what is cheap to refuse before any speech is made', async () => {
    const before = await mediaCount()
    for (const [body, message] of [
      [{ text: 'Lũ', bulletinId: 'b-1' }, /^text: give one of bulletinId, mediaSha256s or text$/],
      [{ voice: 'espeak-ng:vi' }, /^voice: only with text$/],
      [{ text: 'Lũ', priority: 10 }, /^priority: an emergency alert is in the emergency band/],
      [{ text: 'Lũ', targets: { units: ['xa-khong-co'] } }, /xa-khong-co/],
    ] as const) {
      const r = await t.api<{ code: string; message: string }>('POST', '/api/alerts', {
        title: 'Lũ quét',
        targets: { units: ['xa-a'] },
        ...body,
      })
      expect(r.status).toBe(400)
      expect(r.body.code).toBe('LOA_ALERT_INVALID')
      expect(r.body.message).toMatch(message)
    }
    expect(await mediaCount()).toBe(before)
  })

  it('speaks a new text into a new revision', async () => {
    const raised = await t.api<{ id: string; items: { sha256: string }[] }>('POST', '/api/alerts', {
      title: 'Lũ quét',
      text: 'Lũ quét tại xã A.',
      targets: { units: ['xa-a'] },
    })
    expect(raised.status).toBe(201)
    const revised = await t.api<{ revision: number; items: { sha256: string; durationMs: number }[] }>(
      'PUT',
      `/api/alerts/${raised.body.id}`,
      { text: 'Lũ quét tại xã A. Nước đang lên rất nhanh, di chuyển lên vùng cao ngay.' },
    )
    expect(revised.status).toBe(200)
    expect(revised.body.revision).toBe(2)
    expect(revised.body.items[0]?.sha256).not.toBe(raised.body.items[0]?.sha256)
    expect(revised.body.items[0]?.durationMs).toBeGreaterThan(1000)
  })
})

describe('the alert lane', () => {
  it('raises alerts whose audio must be made while ordinary uploads fill every ordinary slot', async () => {
    const uploads = [
      upload('/api/media', longSilence('long-1.flac', 40), 'long-1.flac'),
      upload('/api/media', longSilence('long-2.flac', 41), 'long-2.flac'),
    ]
    await waitFor(async () => (await ordinaryRunning()) === 2, 30_000, 'both ordinary slots taken')
    const stillTranscoding = () => uploads.every((u) => !u.state.settled)

    // One commune (here: one token) cannot queue more: refused at once, before it sends its file.
    const third = upload('/api/media', longSilence('long-3.flac', 1), 'long-3.flac')
    await third.done
    expect(third.state).toMatchObject({ status: 429, body: { code: 'LOA_MEDIA_BUSY' } })

    // API alert with text: spoken and transcoded in the alert lane, published, answered.
    const api = await post(
      '/api/alerts',
      JSON.stringify({
        title: 'Lũ quét',
        text: 'Lũ quét tại xã A. Di chuyển lên vùng cao ngay.',
        targets: { units: ['xa-a'] },
      }),
      'application/json',
    )
    expect(api.status).toBe(201)
    await waitFor(() => alertCommand(api.body.ackId), 10_000, 'API alert command')
    expect(stillTranscoding()).toBe(true)

    // CAP alert without audio: its text is spoken in the alert lane.
    const cap = await post('/api/cap', currentCap('VN-KTTV-LANE-0001'), 'application/cap+xml')
    expect(cap.status).toBe(201)
    expect(cap.body).toMatchObject({ action: 'raised', media: { synthesized: true } })
    const capView = await t.api<{ alert: { ackId: string } }>('GET', `/api/alerts/${cap.body.alertId}`)
    await waitFor(() => alertCommand(capView.body.alert.ackId), 10_000, 'CAP alert command')
    expect(stillTranscoding()).toBe(true)

    // Audio uploaded for an alert goes through the alert lane too, then the alert is raised with it.
    const siren = upload(
      '/api/alerts/media',
      fs.readFileSync(makeAudio(t.dir, 'siren.wav', { seconds: 3, freq: 880 })),
      'siren.wav',
    )
    await siren.done
    expect(siren.state.status).toBe(201)
    const withAudio = await post(
      '/api/alerts',
      JSON.stringify({ title: 'Còi', mediaSha256s: [siren.state.body.sha256], targets: { units: ['xa-a'] } }),
      'application/json',
    )
    expect(withAudio.status).toBe(201)
    await waitFor(() => alertCommand(withAudio.body.ackId), 10_000, 'alert-with-audio command')

    // All of it happened while the ordinary work was still running, in both of its slots.
    expect(stillTranscoding()).toBe(true)
    expect(await ordinaryRunning()).toBe(2)
  }, 120_000)
})
