import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  type DesiredStateBody,
  type DeviceUpChannel,
  decodeMessage,
  encodeMessage,
  serializeMessage,
  topicTree,
} from '@loa/shared'
import { waitFor } from '@loa/testkit'
import Database from 'better-sqlite3'
import mqtt from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signed, TEST_KEY } from '../test-kit/messages.js'
import { type MediaServer, startBroker, startMediaServer } from '../test-kit/servers.js'
import { sha256, tmp, tone } from '../test-kit/test-helpers.js'

const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url))
const DEVICE = 'pi-e2e-1'
const tree = topicTree('loa')

interface Up {
  topic: string
  msg: { id: string; type: string; body: Record<string, unknown> }
}

function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((r) => child.once('exit', (code) => r(code)))
}

describe('agent as a child process', () => {
  let broker: Awaited<ReturnType<typeof startBroker>>
  let media: MediaServer
  const dir = tmp()
  beforeAll(async () => {
    broker = await startBroker()
    media = await startMediaServer()
  })
  afterAll(async () => {
    await media.close()
    await broker.close()
  })

  it('exits 2 naming the field and its env source on a bad config', async () => {
    const child = spawn(process.execPath, [MAIN], {
      env: { ...process.env, LOA_DEVICE_ID: DEVICE, LOA_MQTT_URL: 'http://nope', LOA_DATA_DIR: dir },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stderr = ''
    child.stderr?.on('data', (d) => {
      stderr += d
    })
    expect(await exitOf(child)).toBe(2)
    expect(stderr).toContain('config error: mqtt.url (from LOA_MQTT_URL): must be a mqtt:// or mqtts:// URL')
  })

  it('receives a desired state, downloads, plays on time, reports over MQTT; SIGTERM leaves the amplifier off', async () => {
    const audio = tone(dir, 1.5)
    media.files.set(`/media/${audio.sha256}`, audio.data)
    const dataDir = join(dir, 'data')
    const cfg = join(dir, 'agent.json')
    writeFileSync(
      cfg,
      JSON.stringify({
        deviceId: DEVICE,
        mqtt: { url: broker.url },
        controlPlaneUrl: media.url,
        controlPlaneKey: TEST_KEY,
        dataDir,
        output: `file:${join(dir, 'out')}`,
        prerollMs: 300,
        postrollMs: 400,
        telemetryIntervalS: 2,
        logLevel: 'info',
        clock: { sync: 'trusted' },
      }),
    )
    const ups: Up[] = []
    const cp = await mqtt.connectAsync(broker.url, { clientId: 'test-cp' })
    cp.on('message', (topic, payload) => {
      ups.push({ topic, msg: JSON.parse(payload.toString()) })
    })
    await cp.subscribeAsync(`${tree.base}/device/${DEVICE}/+`, { qos: 1 })

    const child = spawn(process.execPath, [MAIN, '--config', cfg], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout?.on('data', (d) => {
      out += d
    })
    child.stderr?.on('data', (d) => {
      out += d
    })
    try {
      await waitFor(
        () => ups.find((u) => u.topic.endsWith('/presence') && u.msg.body.online === true),
        20_000,
        'presence',
      )
      const at = new Date(Date.now() + 6000)
      at.setMilliseconds(0)
      const body: DesiredStateBody = {
        deviceId: DEVICE,
        version: 1,
        generatedAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
        timezone: 'Asia/Ho_Chi_Minh',
        units: ['commune-1'],
        volume: 80,
        media: [
          {
            sha256: audio.sha256,
            size: audio.data.length,
            url: `/media/${audio.sha256}`,
            mime: 'audio/ogg',
            durationMs: 1500,
          },
        ],
        schedule: [
          {
            id: 'morning-news',
            title: 'Morning news',
            level: 'normal',
            priority: 50,
            items: [audio.sha256],
            recurrence: { kind: 'once', at: at.toISOString().replace('.000Z', 'Z') },
          },
        ],
        fallback: null,
      }
      await cp.publishAsync(
        tree.device(DEVICE, 'desired'),
        serializeMessage('desired', signed('desired', body)),
        { qos: 1, retain: true },
      )
      const applied = await waitFor(
        () => ups.find((u) => u.topic.endsWith('/reported') && u.msg.body.desiredVersion === 1),
        15_000,
        'reported state v1',
      )
      expect(applied.msg.body.media).toEqual([
        expect.objectContaining({ sha256: audio.sha256, state: 'ready' }),
      ])
      const play = await waitFor(() => ups.find((u) => u.topic.endsWith('/play')), 20_000, 'play report')
      const p = play.msg.body
      expect(p).toMatchObject({ scheduleId: 'morning-news', status: 'played', fallback: false })
      expect(Date.parse(p.occurrence as string)).toBe(at.getTime())
      expect(Math.abs(Date.parse(p.startedAt as string) - at.getTime())).toBeLessThan(1000)
      expect(Date.parse(p.relayOnAt as string)).toBeLessThanOrEqual(Date.parse(p.startedAt as string))
      expect(Date.parse(p.relayOffAt as string)).toBeGreaterThanOrEqual(Date.parse(p.endedAt as string) + 350)

      for (const u of ups) {
        const channel = u.topic.split('/').pop() as DeviceUpChannel
        expect(() => decodeMessage(channel, JSON.stringify(u.msg))).not.toThrow()
      }
      // Receipts empty the outbox.
      const db = new Database(join(dataDir, 'agent.db'), { readonly: true })
      const ids = ups.filter((u) => !u.topic.endsWith('/presence')).map((u) => u.msg.id)
      await cp.publishAsync(
        tree.device(DEVICE, 'receipt'),
        serializeMessage('receipt', encodeMessage('receipt', 'control-plane', { ids })),
        { qos: 1 },
      )
      await waitFor(
        () => {
          const left = db.prepare('SELECT id FROM outbox').all() as { id: string }[]
          return left.every((r) => !ids.includes(r.id))
        },
        10_000,
        'receipted entries to leave the outbox',
      )
      expect(db.prepare("SELECT count(*) AS n FROM plays WHERE status = 'played'").get()).toEqual({ n: 1 })

      // SIGTERM in the middle of a play: the item is reported interrupted, the amplifier ends off, exit 0.
      const long = tone(dir, 4, 550)
      media.files.set(`/media/${long.sha256}`, long.data)
      const at2 = new Date(Math.ceil((Date.now() + 3000) / 1000) * 1000)
      const v2: DesiredStateBody = {
        ...body,
        version: 2,
        media: [
          ...body.media,
          {
            ...body.media[0],
            sha256: long.sha256,
            size: long.data.length,
            url: `/media/${long.sha256}`,
          } as DesiredStateBody['media'][0],
        ],
        schedule: [
          {
            ...body.schedule[0],
            id: 'long',
            items: [long.sha256],
            recurrence: { kind: 'once', at: at2.toISOString().replace('.000Z', 'Z') },
          } as DesiredStateBody['schedule'][0],
        ],
      }
      await cp.publishAsync(
        tree.device(DEVICE, 'desired'),
        serializeMessage('desired', signed('desired', v2)),
        { qos: 1, retain: true },
      )
      await waitFor(() => Date.now() > at2.getTime() + 800, 10_000, 'playback under way')
      const onNow = db.prepare('SELECT "on" FROM relay_log ORDER BY seq DESC LIMIT 1').get() as { on: number }
      expect(onNow.on).toBe(1)
      child.kill('SIGTERM')
      expect(await exitOf(child)).toBe(0)
      const last = db.prepare('SELECT "on" FROM relay_log ORDER BY seq DESC LIMIT 1').get() as { on: number }
      expect(last.on).toBe(0)
      expect(db.prepare("SELECT status, reason FROM plays WHERE schedule_id = 'long'").all()).toEqual([
        { status: 'interrupted', reason: 'shutdown' },
      ])
      db.close()
    } catch (err) {
      console.error(out.slice(-5000))
      throw err
    } finally {
      child.kill('SIGKILL')
      await cp.endAsync()
    }
  })

  it('kill -9 loses nothing: an unreceipted play report is re-sent with the same id after a restart', async () => {
    const audio = tone(dir, 1, 700)
    media.files.set(`/k/${audio.sha256}`, audio.data)
    const env = {
      ...process.env,
      LOA_DEVICE_ID: 'pi-e2e-2',
      LOA_MQTT_URL: broker.url,
      LOA_CONTROL_PLANE_URL: media.url,
      LOA_DATA_DIR: join(dir, 'data-kill'),
      LOA_CONTROL_PLANE_KEY_ID: TEST_KEY.keyId,
      LOA_CONTROL_PLANE_PUBLIC_KEY: TEST_KEY.publicKey,
      LOA_OUTPUT: 'null',
      LOA_PREROLL_MS: '200',
      LOA_POSTROLL_MS: '200',
      LOA_LOG_LEVEL: 'warn',
    }
    const ups: Up[] = []
    const cp = await mqtt.connectAsync(broker.url, { clientId: 'test-cp-kill' })
    cp.on('message', (topic, payload) => {
      if (!topic.endsWith('/desired')) ups.push({ topic, msg: JSON.parse(payload.toString()) })
    })
    await cp.subscribeAsync(`${tree.base}/device/pi-e2e-2/+`, { qos: 1 })
    const spawnAgent = () => spawn(process.execPath, [MAIN], { env, stdio: 'ignore' })
    let child = spawnAgent()
    try {
      // A loaded machine can take seconds to start node: count the 4 s from the agent being online.
      await waitFor(
        () => ups.find((u) => u.topic.endsWith('/presence') && u.msg.body.online === true),
        20_000,
        'presence',
      )
      const at = new Date(Math.ceil((Date.now() + 4000) / 1000) * 1000)
      const body: DesiredStateBody = {
        deviceId: 'pi-e2e-2',
        version: 1,
        generatedAt: '2026-01-01T00:00:00Z',
        timezone: 'Asia/Ho_Chi_Minh',
        units: [],
        volume: 100,
        media: [
          {
            sha256: audio.sha256,
            size: audio.data.length,
            url: `/k/${audio.sha256}`,
            mime: 'audio/ogg',
            durationMs: 1000,
          },
        ],
        schedule: [
          {
            id: 'kill',
            title: 'k',
            level: 'normal',
            priority: 50,
            items: [audio.sha256],
            recurrence: { kind: 'once', at: at.toISOString().replace('.000Z', 'Z') },
          },
        ],
        fallback: null,
      }
      await cp.publishAsync(
        tree.device('pi-e2e-2', 'desired'),
        serializeMessage('desired', signed('desired', body)),
        { qos: 1, retain: true },
      )
      const first = await waitFor(() => ups.find((u) => u.topic.endsWith('/play')), 20_000, 'play report')
      child.kill('SIGKILL')
      await exitOf(child)
      // Damage the cache while the agent is down: the start-up verification must notice and fetch it again.
      const cached = join(dir, 'data-kill', 'media', audio.sha256)
      writeFileSync(cached, Buffer.alloc(audio.data.length, 0))
      child = spawnAgent()
      await waitFor(
        () => ups.find((u) => u.topic.endsWith('/event') && u.msg.body.kind === 'media-corrupt'),
        20_000,
        'media-corrupt event',
      )
      await waitFor(
        () => existsSync(cached) && sha256(readFileSync(cached)) === audio.sha256,
        20_000,
        're-fetch',
      )
      await waitFor(
        () => ups.filter((u) => u.msg.id === first.msg.id).length >= 2,
        20_000,
        'same report re-sent',
      )
      const plays = ups.filter((u) => u.topic.endsWith('/play'))
      expect(new Set(plays.map((u) => u.msg.id)).size).toBe(1) // re-sent, never duplicated under a new id
      expect(plays[0]?.msg.body.status).toBe('played')
      child.kill('SIGTERM')
      expect(await exitOf(child)).toBe(0)
    } finally {
      child.kill('SIGKILL')
      await cp.endAsync()
    }
  })
})
