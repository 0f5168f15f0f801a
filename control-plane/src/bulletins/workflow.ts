import { randomUUID } from 'node:crypto'
import type { BulletinLevel } from '@loa/shared'
import type { Actor } from '../access/actor.js'
import { visibleBulletin, visibleMedia } from '../access/scope-refs.js'
import type { Services } from '../context.js'
import { invalid, LoaError, notFound } from '../server/errors.js'
import type { Bulletin, UnitSettings } from './model.js'
import { assertActsOn, defaultUnit } from './workflow-scope.js'

/** Commune radio typically speaks twice a day; accepted bulletins go to the next slot unless one is picked. */
export const DEFAULT_SLOTS = ['06:00', '17:00']

export async function unitSettings(s: Pick<Services, 'repos'>, unitId: string): Promise<UnitSettings> {
  return (
    (await s.repos.workflow.getSettings(unitId)) ?? {
      unitId,
      requiresApproval: false,
      slots: DEFAULT_SLOTS,
      updatedAt: null,
    }
  )
}

export interface NewBulletin {
  id?: string
  title: string
  level: BulletinLevel
  mediaSha256: string
  unitId?: string
  text?: string
  voice?: string
}

/** Creates a bulletin: a draft when its unit requires approval, approved otherwise. */
export async function createBulletin(
  s: Pick<Services, 'repos'>,
  input: NewBulletin,
  actor: Actor,
): Promise<Bulletin> {
  const b = { ...input, unitId: await defaultUnit(s, actor, input.unitId) }
  if (b.unitId !== undefined) await assertActsOn(s, actor, b.unitId, 'unitId')
  // Another commune's media is answered as unknown media.
  if (!(await visibleMedia(s, actor, b.mediaSha256)))
    throw invalid('mediaSha256', `media "${b.mediaSha256}" not found`)
  if (b.unitId !== undefined && !(await s.repos.units.get(b.unitId))) {
    throw invalid('unitId', `unit "${b.unitId}" not found`)
  }
  const id = b.id ?? `b-${randomUUID()}`
  if (await s.repos.content.getBulletin(id))
    throw new LoaError('LOA_CONFLICT', `id: bulletin "${id}" already exists`)
  const draft = b.unitId !== undefined && (await unitSettings(s, b.unitId)).requiresApproval
  return s.repos.content.createBulletin({
    id,
    title: b.title,
    level: b.level,
    mediaSha256: b.mediaSha256,
    unitId: b.unitId ?? null,
    status: draft ? 'draft' : 'approved',
    text: b.text ?? null,
    voice: b.voice ?? null,
    createdBy: actor.id,
    approvedBy: null,
    approvedAt: null,
  })
}

/**
 * draft → approved. Four eyes: a person may not approve a bulletin they created (the system actor, used when no
 * authentication is configured, may).
 */
export async function approveBulletin(
  s: Pick<Services, 'desired' | 'repos'>,
  id: string,
  actor: Actor,
): Promise<Bulletin> {
  // Out of scope reads as unknown; seen but not one's own (a province-wide one) is 403.
  const b = await visibleBulletin(s, actor, id)
  if (!b) throw notFound('bulletin', id)
  await assertActsOn(s, actor, b.unitId ?? null, 'id')
  if (b.status !== 'draft') throw new LoaError('LOA_CONFLICT', `status: bulletin "${id}" is already approved`)
  if (actor.kind !== 'system' && b.createdBy === actor.id) {
    throw new LoaError(
      'LOA_SELF_APPROVAL',
      'approvedBy: a bulletin must be approved by someone other than its author',
    )
  }
  if (!(await s.repos.content.approveBulletin(id, actor.id, new Date().toISOString()))) {
    throw new LoaError('LOA_CONFLICT', `status: bulletin "${id}" is already approved`)
  }
  // Schedules that waited for it now reach their clusters: refused (back to draft) if a state would break a limit.
  await s.desired.admit(undefined, () => s.repos.content.revokeApproval(id))
  return (await s.repos.content.getBulletin(id)) as Bulletin
}

/** Drafts may not be scheduled, sent, raised or broadcast. */
export function assertApproved(b: Bulletin, field = 'bulletinId'): void {
  if (b.status === 'draft') {
    throw new LoaError(
      'LOA_BULLETIN_NOT_APPROVED',
      `${field}: bulletin "${b.id}" is a draft waiting for approval`,
    )
  }
}
