import { describe, expect, it } from 'vitest'
import type { LoaError } from '../server/errors.js'
import { type LaneSlot, type MediaJob, MediaLanes, ownerOf } from './lanes.js'

/** The lane scheduler on its own: jobs are promises the test finishes when it chooses. */

interface Held {
  /** Resolves with the slot once the job is running. */
  started: Promise<LaneSlot>
  isRunning(): boolean
  finish(): void
  done: Promise<unknown>
}

function hold(lanes: MediaLanes, job: MediaJob): Held {
  let running = false
  let finish = () => {}
  let onStart: (slot: LaneSlot) => void = () => {}
  const started = new Promise<LaneSlot>((resolve) => {
    onStart = resolve
  })
  const done = lanes.run(job, (slot) => {
    running = true
    onStart(slot)
    return new Promise<void>((resolve) => {
      finish = () => {
        running = false
        resolve()
      }
    })
  })
  return { started, isRunning: () => running, finish: () => finish(), done }
}

const limits = { slots: 2, alertSlots: 1, perOwner: 2, queueMax: 4, nice: 10 }
const ordinary = (owner: string): MediaJob => ({ lane: 'ordinary', owner })
const alert: MediaJob = { lane: 'alert', owner: 'cap' }
const tick = () => new Promise((r) => setImmediate(r))

describe('media lanes', () => {
  it('starts an alert at once while ordinary work fills its slots and more waits', async () => {
    const lanes = new MediaLanes(limits)
    const a = hold(lanes, ordinary('unit:xa-a'))
    const b = hold(lanes, ordinary('unit:xa-b'))
    const queued = hold(lanes, ordinary('unit:xa-c'))
    await Promise.all([a.started, b.started])
    await tick()
    expect(queued.isRunning()).toBe(false)
    const emergency = hold(lanes, alert)
    const slot = await emergency.started
    expect(slot).toMatchObject({ lane: 'alert', nice: 0 })
    expect(a.isRunning() && b.isRunning()).toBe(true)
    expect(lanes.counts()).toEqual({
      alert: { running: 1, waiting: 0 },
      ordinary: { running: 2, waiting: 1 },
    })
    for (const h of [emergency, a, b]) h.finish()
    await queued.started
    queued.finish()
  })

  it('never lets ordinary work into the alert slots', async () => {
    const lanes = new MediaLanes({ ...limits, slots: 1 })
    const a = hold(lanes, ordinary('unit:xa-a'))
    const b = hold(lanes, ordinary('unit:xa-b'))
    await a.started
    await tick()
    // The alert slot is free, and stays free for alerts.
    expect(b.isRunning()).toBe(false)
    a.finish()
    await b.started
    b.finish()
  })

  it('starts a waiting alert before ordinary jobs that waited longer', async () => {
    const lanes = new MediaLanes({ ...limits, slots: 1 })
    const first = hold(lanes, alert)
    const o = hold(lanes, ordinary('unit:xa-a'))
    await Promise.all([first.started, o.started])
    const waitingOrdinary = hold(lanes, ordinary('unit:xa-b'))
    const second = hold(lanes, alert)
    await tick()
    expect(second.isRunning() || waitingOrdinary.isRunning()).toBe(false)
    // The ordinary slot frees first: the alert that came later takes it.
    o.finish()
    expect(await second.started).toMatchObject({ lane: 'alert', nice: 0 })
    expect(waitingOrdinary.isRunning()).toBe(false)
    first.finish()
    second.finish()
    expect(await waitingOrdinary.started).toMatchObject({ lane: 'ordinary', nice: 10 })
    waitingOrdinary.finish()
  })

  it('refuses an owner a third job at once, and lets owners take turns', async () => {
    const lanes = new MediaLanes({ ...limits, slots: 1 })
    const a1 = hold(lanes, ordinary('unit:xa-a'))
    const a2 = hold(lanes, ordinary('unit:xa-a'))
    await a1.started
    const refused = lanes.run(ordinary('unit:xa-a'), async () => 'ran')
    await expect(refused).rejects.toMatchObject({
      code: 'LOA_MEDIA_BUSY',
      statusCode: 429,
      message:
        'file: 2 media jobs of yours already running or waiting (at most 2); try again when one is done',
    } satisfies Partial<LoaError>)
    expect(() => lanes.assertAdmissible(ordinary('unit:xa-a'))).toThrow(/at most 2/)
    // Another commune is not held back by the first one's queue: it goes next.
    const b1 = hold(lanes, ordinary('unit:xa-b'))
    a1.finish()
    await b1.started
    expect(a2.isRunning()).toBe(false)
    b1.finish()
    await a2.started
    a2.finish()
    // Done jobs no longer count.
    await expect(lanes.run(ordinary('unit:xa-a'), async () => 'ran')).resolves.toBe('ran')
  })

  it('bounds the ordinary queue as a whole', async () => {
    const lanes = new MediaLanes({ ...limits, slots: 1, queueMax: 2 })
    const held = ['a', 'b', 'c'].map((o) => hold(lanes, ordinary(`unit:${o}`)))
    await held[0]?.started
    await expect(lanes.run(ordinary('unit:d'), async () => 'ran')).rejects.toMatchObject({
      code: 'LOA_MEDIA_BUSY',
      message: 'file: the media queue is full (2 waiting); try again shortly',
    })
    // Alerts are not subject to it.
    const emergency = hold(lanes, alert)
    await emergency.started
    emergency.finish()
    for (const h of held) {
      await h.started
      h.finish()
    }
  })

  it('runs one alert job per commune at a time, without holding up anyone else', async () => {
    const lanes = new MediaLanes({ ...limits, slots: 1, alertSlots: 2 })
    const first = hold(lanes, { lane: 'alert', owner: 'unit:xa-a' })
    await first.started
    const second = hold(lanes, { lane: 'alert', owner: 'unit:xa-a' })
    // A free alert slot, but the commune already has its one: the CAP feed and ordinary work go ahead.
    const feed = hold(lanes, alert)
    expect(await feed.started).toMatchObject({ lane: 'alert' })
    const o = hold(lanes, ordinary('unit:xa-b'))
    await o.started
    await tick()
    expect(second.isRunning()).toBe(false)
    expect(lanes.counts().alert).toEqual({ running: 2, waiting: 1 })
    feed.finish()
    await tick()
    expect(second.isRunning()).toBe(false)
    first.finish()
    await second.started
    for (const h of [second, o]) h.finish()
  })

  it('counts a scoped actor by its unit and an unrestricted one by itself', () => {
    const base = { kind: 'user' as const, name: 'x', role: 'commune-operator' as const }
    expect(ownerOf({ ...base, id: 'u1', scopeUnitId: 'xa-a' })).toBe('unit:xa-a')
    expect(ownerOf({ ...base, id: 'u2', scopeUnitId: 'xa-a' })).toBe('unit:xa-a')
    expect(ownerOf({ ...base, id: 'u3', scopeUnitId: null })).toBe('user:u3')
  })

  it('refuses new work once closed and aborts the running jobs', async () => {
    const lanes = new MediaLanes(limits)
    const running = hold(lanes, ordinary('unit:xa-a'))
    const slot = await running.started
    lanes.close()
    expect(slot.signal.aborted).toBe(true)
    await expect(lanes.run(alert, async () => 'ran')).rejects.toMatchObject({ code: 'LOA_UNAVAILABLE' })
    running.finish()
  })
})
