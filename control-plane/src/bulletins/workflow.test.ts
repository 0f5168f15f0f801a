import fs from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  makeAudio,
  seedTree,
  startTestPlane,
  type TestPlane,
  uploadMedia,
} from '../../test-kit/test-helpers.js'

let t: TestPlane
const sha: string[] = []

interface Delivery {
  id: string
  state: string
  toUnitId: string
  programmeId: string | null
  alertId: string | null
  reason: string | null
  decidedBy: string | null
}

async function bulletin(body: Record<string, unknown>) {
  const r = await t.api<{ id: string; status: string }>('POST', '/api/bulletins', body)
  expect(r.status).toBe(201)
  return r.body
}

const inHours = (h: number) => new Date(Math.ceil(Date.now() / 60_000) * 60_000 + h * 3_600_000).toISOString()

beforeAll(async () => {
  t = await startTestPlane()
  await seedTree(t)
  for (const freq of [440, 550, 660, 770]) {
    const r = await uploadMedia(t, fs.readFileSync(makeAudio(t.dir, `${freq}.wav`, { freq, seconds: 1 })))
    sha.push(r.body.sha256 as string)
  }
})
afterAll(async () => {
  await t?.close()
})

describe('approval', () => {
  it('makes drafts in a unit that requires approval, and keeps them off the air until approved', async () => {
    const set = await t.api('PUT', '/api/units/xa-a/settings', { requiresApproval: true })
    expect(set.status).toBe(200)
    expect(set.body).toMatchObject({ requiresApproval: true, slots: ['06:00', '17:00'] })
    const b = await bulletin({ title: 'Nháp', level: 'normal', mediaSha256: sha[0], unitId: 'xa-a' })
    expect(b.status).toBe('draft')
    const sched = {
      bulletinId: b.id,
      recurrence: { kind: 'once', at: inHours(3) },
      targets: { units: ['xa-a'] },
    }
    const refused = await t.api<{ code: string }>('POST', '/api/schedules', sched)
    expect(refused.status).toBe(409)
    expect(refused.body.code).toBe('LOA_BULLETIN_NOT_APPROVED')
    const alert = await t.api<{ code: string }>('POST', '/api/alerts', {
      title: 'x',
      bulletinId: b.id,
      targets: { units: ['xa-a'] },
    })
    expect(alert.body.code).toBe('LOA_BULLETIN_NOT_APPROVED')
    // Its author (the test's admin token) may not approve it; another operator may.
    const self = await t.api<{ code: string }>('POST', `/api/bulletins/${b.id}/approve`)
    expect(self.body.code).toBe('LOA_SELF_APPROVAL')
    const other = t.apiAs({ role: 'province-operator', scopeUnitId: null })
    const ok = await other<{ status: string; approvedBy: string; approvedAt: string }>(
      'POST',
      `/api/bulletins/${b.id}/approve`,
    )
    expect(ok.status).toBe(200)
    expect(ok.body.status).toBe('approved')
    expect(ok.body.approvedBy).toMatch(/^[a-z0-9]+$/)
    expect(ok.body.approvedBy).not.toBe('testadmin')
    expect(ok.body.approvedAt).toBeTruthy()
    const twice = await t.api('POST', `/api/bulletins/${b.id}/approve`)
    expect(twice.status).toBe(409)
    expect((await t.api('POST', '/api/schedules', sched)).status).toBe(201)
    expect((await t.api('POST', '/api/bulletins/nope/approve')).status).toBe(404)
  })

  it('creates approved bulletins where no approval is required', async () => {
    const b = await bulletin({ title: 'Thường', level: 'normal', mediaSha256: sha[0], unitId: 'xa-b' })
    expect(b.status).toBe('approved')
    expect((await t.api('PUT', '/api/units/nope/settings', { requiresApproval: true })).status).toBe(404)
    const badSlot = await t.api('PUT', '/api/units/xa-b/settings', {
      requiresApproval: false,
      slots: ['25:00'],
    })
    expect(badSlot.status).toBe(400)
  })
})

describe('inbox', () => {
  let normalId: string
  let slot: string

  it('sends a normal bulletin from the province to communes, where it waits', async () => {
    const b = await bulletin({ title: 'Tin tỉnh', level: 'normal', mediaSha256: sha[1], unitId: 'prov' })
    normalId = b.id
    const r = await t.api<{ deliveries: Delivery[]; alertId: string | null }>(
      'POST',
      `/api/bulletins/${b.id}/send`,
      {
        toUnitIds: ['xa-a', 'xa-b'],
        note: 'Phát trong tuần',
      },
    )
    expect(r.status).toBe(201)
    expect(r.body.alertId).toBeNull()
    expect(r.body.deliveries.map((d) => [d.toUnitId, d.state]).sort()).toEqual([
      ['xa-a', 'pending'],
      ['xa-b', 'pending'],
    ])
    const again = await t.api('POST', `/api/bulletins/${b.id}/send`, { toUnitIds: ['xa-a'] })
    expect(again.status).toBe(409)
    const self = await t.api<{ code: string }>('POST', `/api/bulletins/${b.id}/send`, { toUnitIds: ['prov'] })
    expect(self.status).toBe(400)
    expect(self.body.code).toBe('LOA_WORKFLOW_INVALID')
    const sideways = await bulletin({ title: 'Xã A', level: 'normal', mediaSha256: sha[1], unitId: 'xa-b' })
    expect((await t.api('POST', `/api/bulletins/${sideways.id}/send`, { toUnitIds: ['xa-a'] })).status).toBe(
      400,
    )
  })

  it('lists the inbox, accepts into a programme at the chosen slot, refuses a second decision', async () => {
    const inbox = await t.api<{ deliveries: (Delivery & { bulletin: { title: string } })[] }>(
      'GET',
      '/api/inbox?unitId=xa-a&state=pending',
    )
    expect(inbox.body.deliveries).toHaveLength(1)
    const d = inbox.body.deliveries[0] as Delivery & { bulletin: { title: string } }
    expect(d.bulletin.title).toBe('Tin tỉnh')
    slot = inHours(5)
    const past = await t.api('POST', `/api/inbox/${d.id}/accept`, { at: '2020-01-01T00:00:00Z' })
    expect(past.status).toBe(400)
    const ok = await t.api<Delivery>('POST', `/api/inbox/${d.id}/accept`, { at: slot })
    expect(ok.status).toBe(200)
    expect(ok.body.state).toBe('accepted')
    expect(ok.body.programmeId).toBeTruthy()
    const twice = await t.api<{ code: string }>('POST', `/api/inbox/${d.id}/accept`, {})
    expect(twice.status).toBe(409)
    expect(twice.body.code).toBe('LOA_INBOX_STATE')
    expect((await t.api('POST', `/api/inbox/${d.id}/decline`, { reason: 'x' })).status).toBe(409)
    const desired = await t.api<{ schedule: { items: string[]; recurrence: { at: string } }[] }>(
      'GET',
      '/api/clusters/c-a/desired-state',
    )
    const entry = desired.body.schedule.find((e) => e.recurrence.at === slot)
    expect(entry?.items).toEqual([sha[1]])
  })

  it('declines with a reason, once', async () => {
    const inbox = await t.api<{ deliveries: Delivery[] }>('GET', '/api/inbox?unitId=xa-b&state=pending')
    const d = inbox.body.deliveries[0] as Delivery
    expect((await t.api('POST', `/api/inbox/${d.id}/decline`, {})).status).toBe(400)
    expect((await t.api('POST', `/api/inbox/${d.id}/decline`, { reason: '   ' })).status).toBe(400)
    const r = await t.api<Delivery>('POST', `/api/inbox/${d.id}/decline`, { reason: 'Trùng nội dung' })
    expect(r.body).toMatchObject({ state: 'declined', reason: 'Trùng nội dung', decidedBy: 'testadmin' })
    expect((await t.api('POST', `/api/inbox/${d.id}/decline`, { reason: 'again' })).status).toBe(409)
    expect((await t.api('POST', '/api/inbox/nope/decline', { reason: 'x' })).status).toBe(404)
    const all = await t.api<{ deliveries: Delivery[] }>('GET', `/api/bulletins/${normalId}/deliveries`)
    expect(all.body.deliveries.map((x) => x.state).sort()).toEqual(['accepted', 'declined'])
  })

  it('places a priority bulletin ahead of normal ones, and lets the commune reorder', async () => {
    const p = await bulletin({ title: 'Ưu tiên', level: 'priority', mediaSha256: sha[2], unitId: 'prov' })
    const r = await t.api<{ deliveries: Delivery[] }>('POST', `/api/bulletins/${p.id}/send`, {
      toUnitIds: ['xa-a'],
      at: slot,
    })
    expect(r.body.deliveries[0]).toMatchObject({ state: 'accepted', decidedBy: 'auto' })
    const progs = await t.api<{
      programmes: { id: string; startsAt: string; priority: number; items: { bulletinId: string }[] }[]
    }>('GET', '/api/programmes?unitId=xa-a')
    const prog = progs.body.programmes.find((x) => x.startsAt === slot)
    expect(prog?.items.map((i) => i.bulletinId)).toEqual([p.id, normalId])
    expect(prog?.priority).toBe(100)
    const desired = async () =>
      (
        await t.api<{ schedule: { items: string[]; recurrence: { at: string } }[] }>(
          'GET',
          '/api/clusters/c-a1/desired-state',
        )
      ).body.schedule.find((e) => e.recurrence.at === slot)?.items
    expect(await desired()).toEqual([sha[2], sha[1]])
    const bad = await t.api('PUT', `/api/programmes/${prog?.id}/order`, { bulletinIds: [normalId] })
    expect(bad.status).toBe(400)
    const re = await t.api<{ items: { bulletinId: string }[] }>('PUT', `/api/programmes/${prog?.id}/order`, {
      bulletinIds: [normalId, p.id],
    })
    expect(re.status).toBe(200)
    expect(re.body.items.map((i) => i.bulletinId)).toEqual([normalId, p.id])
    expect(await desired()).toEqual([sha[1], sha[2]])
    // Priority bulletins are never waiting for a decision.
    const d = r.body.deliveries[0] as Delivery
    expect((await t.api('POST', `/api/inbox/${d.id}/decline`, { reason: 'no' })).status).toBe(409)
  })

  it('plays an emergency at once through the alerts service', async () => {
    const e = await bulletin({ title: 'Lũ quét', level: 'emergency', mediaSha256: sha[3], unitId: 'prov' })
    const r = await t.api<{ deliveries: Delivery[]; alertId: string }>(
      'POST',
      `/api/bulletins/${e.id}/send`,
      {
        toUnitIds: ['xa-b'],
      },
    )
    expect(r.status).toBe(201)
    expect(r.body.alertId).toBeTruthy()
    expect(r.body.deliveries[0]).toMatchObject({ state: 'alerted', alertId: r.body.alertId })
    const alert = await t.api<{ alert: { level: string; priority: number }; counts: { targeted: number } }>(
      'GET',
      `/api/alerts/${r.body.alertId}`,
    )
    expect(alert.body.alert).toMatchObject({ level: 'emergency', priority: 200 })
    expect(alert.body.counts.targeted).toBe(1)
  })

  it('does not send drafts', async () => {
    await t.api('PUT', '/api/units/prov/settings', { requiresApproval: true })
    const d = await bulletin({ title: 'Nháp tỉnh', level: 'normal', mediaSha256: sha[0], unitId: 'prov' })
    const r = await t.api<{ code: string }>('POST', `/api/bulletins/${d.id}/send`, { toUnitIds: ['xa-a'] })
    expect(r.status).toBe(409)
    expect(r.body.code).toBe('LOA_BULLETIN_NOT_APPROVED')
    await t.api('PUT', '/api/units/prov/settings', { requiresApproval: false })
  })
})
