import { waitFor } from '@loa/testkit'
import { describe, expect, it } from 'vitest'
import { noMs, uid, useLiveRig } from '../../test-kit/live-rig.js'
import { sourceSha256 } from './live-session.js'

describe('live relays (real ffmpeg source and player, real SQLite, real broker)', () => {
  const rig = useLiveRig()
  const { stages, events, plays, startAgent, source, live, playing, send, startLive, stopLive } = rig
  const { state, publishDesired, once } = rig

  it('live-start plays the stream (received → playing, amplifier on); live-stop stops it (cancelled, amplifier off)', async () => {
    const { src, agent, l } = await playing('pi-lv1')
    expect(stages(l.ackId)).toEqual(['received', 'playing'])
    expect(agent.ampSwitch.isOn()).toBe(true)
    expect(agent.scheduler.nowPlaying?.scheduleId).toBe(l.liveId)
    await waitFor(() => events('pi-lv1', 'live-playing', l.liveId).length > 0, 5_000, 'live-playing event')
    expect(events('pi-lv1', 'live-connecting', l.liveId).length).toBeGreaterThan(0)
    await new Promise((r) => setTimeout(r, 1500))
    await stopLive('pi-lv1', l.liveId)
    await waitFor(() => stages(l.ackId).includes('cancelled'), 10_000, 'cancelled')
    await waitFor(() => !agent.ampSwitch.isOn(), 5_000, 'amplifier off')
    const [r] = await waitFor(
      () => plays(agent, l.liveId).length > 0 && plays(agent, l.liveId),
      5_000,
      'report',
    )
    expect(r).toMatchObject({ status: 'interrupted', reason: 'stopped', sha256: sourceSha256(src.url) })
    expect(r?.duration_ms).toBeGreaterThan(1000)
    expect(events('pi-lv1', 'live-ended', l.liveId).length).toBe(1)
    // The stopped live, delivered again (desired state, another topic), does not start again.
    await startLive('pi-lv1', l)
    await new Promise((r) => setTimeout(r, 1500))
    expect(agent.ampSwitch.isOn()).toBe(false)
    expect(stages(l.ackId)).toEqual(['received', 'playing', 'cancelled'])
  }, 60_000)

  it('a dead source is retried with backoff while the schedule plays; it resumes when the source returns', async () => {
    const { src, agent, l } = await playing('pi-lv2')
    await src.down()
    await waitFor(() => events('pi-lv2', 'live-dropped', l.liveId).length > 0, 15_000, 'live-dropped')
    await waitFor(() => stages(l.ackId).includes('failed'), 5_000, 'failed ack')
    await waitFor(() => !agent.ampSwitch.isOn(), 10_000, 'amplifier off while the source is dead')
    // A bulletin due while the source is dead plays.
    const at = Math.ceil((Date.now() + 2500) / 1000) * 1000
    await publishDesired(state('pi-lv2', 1, { schedule: [once('news-lv2', at)] }))
    await waitFor(() => plays(agent, 'news-lv2').length > 0, 20_000, 'bulletin report')
    expect(plays(agent, 'news-lv2')[0]?.status).toBe('played')
    // Connection attempts keep failing meanwhile: reported each time.
    expect(events('pi-lv2', 'live-dropped', l.liveId).length).toBeGreaterThan(1)
    await src.up()
    await waitFor(() => stages(l.ackId).filter((s) => s === 'playing').length === 2, 20_000, 'playing again')
    expect(agent.ampSwitch.isOn()).toBe(true)
    const reports = plays(agent, l.liveId)
    expect(reports[0]).toMatchObject({ status: 'interrupted' })
    expect(reports[0]?.reason).toMatch(/^dropped: /)
  }, 90_000)

  it('a source that hangs with the connection open is noticed within seconds and dropped', async () => {
    const { src, agent, l } = await playing('pi-lv8')
    src.stall()
    const t = Date.now()
    await waitFor(() => events('pi-lv8', 'live-dropped', l.liveId).length > 0, 15_000, 'live-dropped')
    // Agent timeouts here are 3 s (stall) / 4 s (connect): noticed well before a human would call it dead air.
    expect(Date.now() - t).toBeLessThan(8000)
    await waitFor(() => !agent.ampSwitch.isOn(), 5_000, 'amplifier off')
    expect(stages(l.ackId)).toEqual(['received', 'playing', 'failed'])
  }, 60_000)

  it('endsAt ends it (done, reported played); an expired live never starts', async () => {
    const src = await source()
    const agent = await startAgent('pi-lv3')
    const l = live(src, { endsAt: noMs(Date.now() + 5000) })
    const expired = live(src, { startsAt: noMs(Date.now() - 60_000), endsAt: noMs(Date.now() - 1000) })
    await startLive('pi-lv3', expired)
    await startLive('pi-lv3', l)
    await waitFor(() => stages(l.ackId).includes('done'), 20_000, 'done')
    expect(stages(l.ackId)).toEqual(['received', 'playing', 'done'])
    const [r] = await waitFor(
      () => plays(agent, l.liveId).length > 0 && plays(agent, l.liveId),
      5_000,
      'report',
    )
    expect(r).toMatchObject({ status: 'played', occurrence: l.startsAt })
    expect(stages(expired.ackId)).toEqual(['expired'])
    expect(events('pi-lv3', 'live-connecting', expired.liveId)).toHaveLength(0)
    await waitFor(() => !agent.ampSwitch.isOn(), 5_000, 'amplifier off')
    // A live-start past its command deadline is not carried out, but the open-ended live is joined from
    // desired.lives (its command outlived, the live did not).
    const stale = live(src)
    const past = new Date(Date.now() - 1000).toISOString()
    await send('pi-lv3', { commandId: uid('cmd'), kind: 'live-start', deadline: past, live: stale })
    await waitFor(() => events('pi-lv3', 'command-rejected').length > 0, 5_000, 'stale command rejected')
    expect(stages(stale.ackId)).toEqual([])
    await publishDesired(state('pi-lv3', 1, { lives: [stale] }))
    await waitFor(() => stages(stale.ackId).includes('playing'), 20_000, 'joined from desired')
  }, 60_000)

  it('a higher revision with a new source reconnects to it; the old ackId is cancelled', async () => {
    const [a, b] = [await source(), await source()]
    const agent = await startAgent('pi-lv7')
    const l = live(a)
    await startLive('pi-lv7', l)
    await waitFor(() => stages(l.ackId).includes('playing'), 20_000, 'playing r1')
    const r2 = { ...l, revision: 2, ackId: uid('ack'), sourceUrl: b.url }
    await startLive('pi-lv7', r2)
    await waitFor(() => stages(r2.ackId).includes('playing'), 20_000, 'playing r2')
    expect(stages(l.ackId)).toEqual(['received', 'playing', 'cancelled'])
    await waitFor(
      () => a.listeners === 1 && b.listeners === 1 && agent.ampSwitch.isOn(),
      5_000,
      'one listener each',
    )
    // Revision 1 again (a late duplicate) changes nothing.
    await startLive('pi-lv7', l)
    await new Promise((r) => setTimeout(r, 1000))
    expect(stages(r2.ackId)).toEqual(['received', 'playing'])
    expect(plays(agent, l.liveId)[0]).toMatchObject({
      status: 'interrupted',
      reason: 'replaced by revision 2',
      sha256: sourceSha256(a.url),
    })
  }, 60_000)
})
