import { type AlertSpec, Bands } from '@loa/shared'
import { waitFor } from '@loa/testkit'
import { describe, expect, it } from 'vitest'
import { noMs, uid, useLiveRig } from '../../test-kit/live-rig.js'
import { tmp, tone } from '../../test-kit/test-helpers.js'

describe('live relays with alerts, the schedule and the desired state (real ffmpeg, SQLite, broker)', () => {
  const rig = useLiveRig()
  const { agents, stages, events, plays, ampSwitchLog, startAgent, source, live, send, deadline } = rig
  const { startLive, stopLive, state, publishDesired, once } = rig

  it('an alert preempts the relay, which resumes after it; the relay preempts a normal bulletin', async () => {
    const src = await source()
    const agent = await startAgent('pi-lv4')
    const longBulletin = tone(tmp('loa-live-long-'), 20, 330)
    rig.server.files.set(`/media/${longBulletin.sha256}`, longBulletin.data)
    const longRef = {
      sha256: longBulletin.sha256,
      size: longBulletin.data.length,
      url: `media/${longBulletin.sha256}`,
      mime: 'audio/ogg',
      durationMs: 20_000,
    }
    const at = Math.ceil((Date.now() + 3000) / 1000) * 1000
    await publishDesired(
      state('pi-lv4', 1, {
        media: [rig.bulletin, longRef],
        // Dropped when preempted, so the amplifier goes off once the live is stopped.
        schedule: [{ ...once('news-lv4', at), items: [longRef.sha256], onPreempt: 'drop' }],
      }),
    )
    await waitFor(() => agent.scheduler.nowPlaying?.scheduleId === 'news-lv4', 20_000, 'bulletin playing')
    const l = live(src)
    await startLive('pi-lv4', l)
    await waitFor(() => stages(l.ackId).includes('playing'), 20_000, 'relay playing')
    expect(agent.scheduler.nowPlaying?.scheduleId).toBe(l.liveId)
    // The alert takes over, then the relay comes back.
    const alert: AlertSpec = {
      alertId: uid('al'),
      revision: 1,
      ackId: uid('alack'),
      title: 'flood',
      level: 'emergency',
      priority: Bands.emergency,
      items: [rig.bulletin],
      repeat: 1,
      startsAt: new Date(Date.now() - 1000).toISOString(),
      expiresAt: new Date(Date.now() + 600_000).toISOString(),
      audible: true,
    }
    await send('pi-lv4', { commandId: uid('cmd'), kind: 'alert', deadline: deadline(), alert })
    await waitFor(() => agent.scheduler.nowPlaying?.scheduleId === alert.alertId, 15_000, 'alert playing')
    await waitFor(() => stages(alert.ackId).includes('done'), 20_000, 'alert done')
    await waitFor(() => agent.scheduler.nowPlaying?.scheduleId === l.liveId, 10_000, 'relay resumed')
    await waitFor(() => events('pi-lv4', 'live-playing', l.liveId).length >= 2, 5_000, 'second live-playing')
    await stopLive('pi-lv4', l.liveId)
    await waitFor(() => !agent.ampSwitch.isOn(), 10_000, 'amplifier off')
    const lr = plays(agent, l.liveId)
    expect(lr.map((r) => r.status)).toEqual(['interrupted', 'interrupted'])
    expect(lr[0]?.reason).toMatch(/preempted by flood/)
    const br = plays(agent, 'news-lv4')
    expect(br[0]).toMatchObject({ status: 'interrupted' })
    expect(br[0]?.reason).toMatch(/preempted by VOV1/)
    // One amplifier-on period throughout: the amplifier was never switched off in between.
    expect(ampSwitchLog(agent).map((r) => r.on)).toEqual([1, 0])
  }, 90_000)

  it('a late joiner picks the relay up from desired.lives; a restart rejoins it; leaving lives stops it', async () => {
    const src = await source()
    const dir = tmp('loa-live-restart-')
    let agent = await startAgent('pi-lv5', dir)
    const l = live(src)
    await publishDesired(state('pi-lv5', 1, { lives: [l] }))
    await waitFor(() => stages(l.ackId).includes('playing'), 20_000, 'playing from desired')
    await agent.stop()
    agents.splice(agents.indexOf(agent), 1)
    agent = await startAgent('pi-lv5', dir)
    const [r] = plays(agent, l.liveId)
    expect(r).toMatchObject({ status: 'interrupted', reason: 'shutdown' })
    await waitFor(() => stages(l.ackId).filter((s) => s === 'playing').length === 2, 20_000, 'rejoined')
    expect(agent.ampSwitch.isOn()).toBe(true)
    // A newer desired state without it: it was stopped while the device was away (live-stop missed).
    await publishDesired(state('pi-lv5', 2))
    await waitFor(() => stages(l.ackId).includes('cancelled'), 10_000, 'cancelled')
    await waitFor(() => !agent.ampSwitch.isOn(), 5_000, 'amplifier off')
    // Once stopped, a restart does not start it again, even from a desired state still listing it.
    await agent.stop()
    agents.splice(agents.indexOf(agent), 1)
    agent = await startAgent('pi-lv5', dir)
    await publishDesired(state('pi-lv5', 3, { lives: [l] }))
    await new Promise((r) => setTimeout(r, 2500))
    expect(agent.ampSwitch.isOn()).toBe(false)
    expect(events('pi-lv5', 'live-connecting', l.liveId)).toHaveLength(2)
  }, 90_000)

  it('a recurring relay starts at its occurrence and stops after durationS', async () => {
    const src = await source()
    const agent = await startAgent('pi-lv6')
    const at = Math.ceil((Date.now() + 2000) / 1000) * 1000
    await publishDesired(
      state('pi-lv6', 1, {
        relays: [
          {
            id: 'vov-news',
            title: 'VOV news',
            sourceUrl: src.url,
            priority: Bands.relay,
            recurrence: { kind: 'once', at: noMs(at) },
            durationS: 10,
          },
        ],
      }),
    )
    await waitFor(() => agent.scheduler.nowPlaying?.scheduleId === 'vov-news', 20_000, 'relay playing')
    expect(Date.now()).toBeGreaterThanOrEqual(at)
    await waitFor(() => plays(agent, 'vov-news').length > 0, 25_000, 'report')
    const [r] = plays(agent, 'vov-news')
    expect(r).toMatchObject({ status: 'played', occurrence: new Date(at).toISOString() })
    const ended = Date.parse(events('pi-lv6', 'live-ended', 'vov-news')[0]?.body.at as string)
    expect(ended - at).toBeGreaterThanOrEqual(9_500)
    expect(ended - at).toBeLessThan(12_000)
    expect(agent.ampSwitch.isOn()).toBe(false)
  }, 60_000)
})
