import { randomUUID } from 'node:crypto'
import { Bands } from '@loa/shared'
import type { Actor } from '../access/actor.js'
import { can, unitInScope } from '../access/policy.js'
import { visibleBulletin } from '../access/scope-refs.js'
import { mediaRef } from '../alerts/input.js'
import type { Services } from '../context.js'
import { forbidden, invalid, LoaError, notFound } from '../server/errors.js'
import type { Delivery } from './model.js'
import { nextSlot, placeInProgramme } from './programmes.js'
import { assertApproved } from './workflow.js'
import { assertActsOn } from './workflow-scope.js'

/**
 * A bulletin sent from a unit to units below it (Circular 39): normal ones wait in the commune's inbox to be
 * accepted into a programme or declined; priority ones are placed into the next programme at once; emergency ones
 * are raised as an alert on every cluster of the target units and play immediately. docs/bulletins.md.
 */

const EMERGENCY_EXPIRY_MS = 60 * 60_000

export interface SendInput {
  toUnitIds: string[]
  note?: string
  /** Priority bulletins: the slot to place them in (default: each unit's next slot). */
  at?: string
}

export async function sendBulletin(
  s: Pick<Services, 'alerts' | 'config' | 'desired' | 'repos'>,
  bulletinId: string,
  input: SendInput,
  actor: Actor,
): Promise<{ deliveries: Delivery[]; alertId: string | null }> {
  // Out of scope reads as unknown; seen but not one's own (a province-wide one) is 403.
  const b = await visibleBulletin(s, actor, bulletinId)
  if (!b) throw notFound('bulletin', bulletinId)
  await assertActsOn(s, actor, b.unitId ?? null, 'id')
  if (b.level === 'emergency' && !can(actor, 'emergency')) throw forbidden('permission "emergency" required')
  assertApproved(b, 'id')
  if (!b.unitId)
    throw invalid(
      'unitId',
      `bulletin "${b.id}" belongs to no unit; only a unit's bulletin is sent below`,
      'LOA_WORKFLOW_INVALID',
    )
  const below = new Set(await s.repos.units.subtreeIds(b.unitId))
  below.delete(b.unitId)
  const to = [...new Set(input.toUnitIds)]
  for (const [i, u] of to.entries()) {
    if (!below.has(u)) {
      throw invalid(`toUnitIds[${i}]`, `unit "${u}" is not below "${b.unitId}"`, 'LOA_WORKFLOW_INVALID')
    }
  }
  const already = await s.repos.workflow.listDeliveries({ bulletinId: b.id, limit: 10_000 })
  const dup = already.find((d) => to.includes(d.toUnitId))
  if (dup)
    throw new LoaError('LOA_CONFLICT', `toUnitIds: bulletin "${b.id}" was already sent to "${dup.toUnitId}"`)

  const now = new Date().toISOString()
  let alertId: string | null = null
  if (b.level === 'emergency') {
    const media = await s.repos.media.get(b.mediaSha256)
    if (!media) throw notFound('media', b.mediaSha256)
    const raised = await s.alerts.raise({
      title: b.title,
      level: 'emergency',
      priority: Bands.emergency,
      items: [mediaRef(media)],
      repeat: 1,
      startsAt: now,
      expiresAt: new Date(Date.now() + EMERGENCY_EXPIRY_MS).toISOString(),
      audible: true,
      volume: null,
      targets: { units: to, clusters: [], tags: [], polygons: [], circles: [] },
      source: 'api',
    })
    alertId = raised.alert.id
  }
  const deliveries: Delivery[] = to.map((u) => ({
    id: `d-${randomUUID()}`,
    bulletinId: b.id,
    fromUnitId: b.unitId as string,
    toUnitId: u,
    level: b.level,
    state: alertId ? 'alerted' : 'pending',
    note: input.note ?? null,
    reason: null,
    programmeId: null,
    alertId,
    sentBy: actor.id,
    sentAt: now,
    decidedBy: alertId ? 'auto' : null,
    decidedAt: alertId ? now : null,
  }))
  await s.repos.workflow.createDeliveries(deliveries)
  if (b.level === 'priority') {
    for (const d of deliveries) {
      let programme: Awaited<ReturnType<typeof placeInProgramme>>
      try {
        programme = await placeInProgramme(s, d.toUnitId, b, input.at ?? (await nextSlot(s, d.toUnitId)))
      } catch (err) {
        // That slot's programme would break a limit its clusters' agents enforce: the delivery waits in the
        // commune's inbox, saying why, to be accepted into another slot.
        if (!(err instanceof LoaError) || err.code !== 'LOA_DESIRED_LIMIT') throw err
        await s.repos.workflow.decideDelivery(d.id, 'pending', {
          state: 'pending',
          decidedBy: null,
          decidedAt: null,
          reason: err.message,
        })
        continue
      }
      await s.repos.workflow.decideDelivery(d.id, 'pending', {
        state: 'accepted',
        decidedBy: 'auto',
        decidedAt: new Date().toISOString(),
        programmeId: programme.id,
      })
    }
  }
  const stored = await Promise.all(deliveries.map((d) => s.repos.workflow.getDelivery(d.id)))
  return { deliveries: stored.filter((d): d is Delivery => d !== null), alertId }
}

async function pending(s: Pick<Services, 'repos'>, id: string, actor: Actor): Promise<Delivery> {
  const d = await s.repos.workflow.getDelivery(id)
  // Another unit's inbox reads as unknown.
  if (!d || !(await unitInScope(s, actor, d.toUnitId))) throw notFound('delivery', id)
  if (d.state !== 'pending')
    throw new LoaError('LOA_INBOX_STATE', `state: delivery "${id}" is already ${d.state}`)
  return d
}

/** Accepts a normal bulletin into the unit's programme at `at` (default: its next slot). */
export async function acceptDelivery(
  s: Pick<Services, 'config' | 'desired' | 'repos'>,
  id: string,
  at: string | undefined,
  actor: Actor,
): Promise<Delivery> {
  const d = await pending(s, id, actor)
  const b = await s.repos.content.getBulletin(d.bulletinId)
  if (!b) throw notFound('bulletin', d.bulletinId)
  const decidedAt = new Date().toISOString()
  // Claim it first, so two operators accepting at once cannot both place it.
  if (
    !(await s.repos.workflow.decideDelivery(id, 'pending', {
      state: 'accepted',
      decidedBy: actor.id,
      decidedAt,
    }))
  ) {
    throw new LoaError('LOA_INBOX_STATE', `state: delivery "${id}" was decided meanwhile`)
  }
  try {
    const programme = await placeInProgramme(s, d.toUnitId, b, at ?? (await nextSlot(s, d.toUnitId)))
    await s.repos.workflow.decideDelivery(id, 'accepted', {
      state: 'accepted',
      decidedBy: actor.id,
      decidedAt,
      programmeId: programme.id,
    })
  } catch (err) {
    await s.repos.workflow.decideDelivery(id, 'accepted', {
      state: 'pending',
      decidedBy: null,
      decidedAt: null,
    })
    throw err
  }
  return (await s.repos.workflow.getDelivery(id)) as Delivery
}

export async function declineDelivery(
  s: Pick<Services, 'repos'>,
  id: string,
  reason: string,
  actor: Actor,
): Promise<Delivery> {
  await pending(s, id, actor)
  const ok = await s.repos.workflow.decideDelivery(id, 'pending', {
    state: 'declined',
    decidedBy: actor.id,
    decidedAt: new Date().toISOString(),
    reason,
  })
  if (!ok) throw new LoaError('LOA_INBOX_STATE', `state: delivery "${id}" was decided meanwhile`)
  return (await s.repos.workflow.getDelivery(id)) as Delivery
}
