import { randomUUID } from 'node:crypto'
import fs from 'node:fs/promises'
import path from 'node:path'
import type { Services } from '../../context.js'
import { importAudioFile } from '../../media/import.js'
import type { LaneSlot } from '../../media/lanes.js'
import type { Media } from '../../media/model.js'
import { LoaError } from '../../server/errors.js'
import { mediaRef } from '../input.js'
import type { Alert, AlertTargets } from '../model.js'
import type { RaiseResult } from '../service.js'
import { type CapPlan, capDuplicate, planCap } from './chain.js'
import { decodeBase64, parseCapWithInlineAudio } from './inline-audio.js'
import type { CapLogEntry, CapOutcome } from './log.js'
import {
  capAudible,
  capBand,
  capMsgTypeSupported,
  capScopeSupported,
  capSpeechText,
  capTargets,
  capTitle,
  pickInfo,
} from './map.js'
import type { CapInfo } from './parse.js'
import { capSchedule, checkSentWindow } from './window.js'

export interface CapResult {
  /** HTTP status: 201 for a new alert, 202 for a Cancel remembered until what it names arrives, 200 otherwise. */
  status: number
  action: CapOutcome | 'duplicate'
  /** The alert of the message's chain; null when there is none (a Cancel or a message cancelled before it came). */
  alertId: string | null
  revision: number | null
  level: Alert['level'] | null
  priority: number | null
  audible: boolean | null
  /** False when nothing went to devices (expired on arrival, duplicate, late, cancelled). */
  sent: boolean
  targetCount: number | null
  media: { sha256: string; synthesized: boolean } | null
}

interface Audio {
  media: Media
  synthesized: boolean
}

/** Alert audio is made in the alert media lane: ordinary uploads and speech never make it wait (media/lanes.ts). */
const alertAudio = (
  s: Pick<Services, 'config' | 'lanes' | 'repos' | 'speech'>,
  info: CapInfo,
  index: number,
): Promise<Audio> =>
  s.lanes.run({ lane: 'alert', owner: 'cap' }, (slot) => alertAudioIn(s, info, index, slot))

/** Audio for the alert: an audio resource carried inline (derefUri), else the text spoken by the speech engine. */
async function alertAudioIn(
  s: Pick<Services, 'config' | 'repos' | 'speech'>,
  info: CapInfo,
  index: number,
  slot: LaneSlot,
): Promise<Audio> {
  const tmp = path.join(s.config.dataDir, 'tmp')
  await fs.mkdir(tmp, { recursive: true })
  const file = path.join(tmp, `${randomUUID()}.cap-audio`)
  try {
    const ri = info.resources.findIndex((r) => r.mimeType.toLowerCase().startsWith('audio/') && r.derefUri)
    const resource = info.resources[ri]
    if (resource?.derefUri) {
      const audio = await decodeBase64(resource.derefUri)
      if (!audio) {
        throw new LoaError('LOA_CAP_INVALID', `alert/info/${index}/resource/${ri}/derefUri: not base64`)
      }
      await fs.writeFile(file, audio)
      const media = await importAudioFile(
        s,
        file,
        resource.resourceDesc.slice(0, 200) || 'cap-resource',
        slot,
      )
      return { media, synthesized: false }
    }
    await s.speech.synthesize(capSpeechText(info), file, { nice: slot.nice })
    const media = await importAudioFile(s, file, `${s.speech.name}.wav`, slot)
    return { media, synthesized: true }
  } finally {
    await fs.rm(file, { force: true })
  }
}

const HTTP_STATUS: Partial<Record<CapResult['action'], number>> = { raised: 201, remembered: 202 }

function view(action: CapResult['action'], a: Alert | null, extra: Partial<CapResult> = {}): CapResult {
  return {
    status: HTTP_STATUS[action] ?? 200,
    action,
    alertId: a?.id ?? null,
    revision: a?.revision ?? null,
    level: a?.level ?? null,
    priority: a?.priority ?? null,
    audible: a?.audible ?? null,
    sent: false,
    targetCount: null,
    media: null,
    ...extra,
  }
}

function raised(action: CapOutcome, r: RaiseResult, audio: Audio | null): CapResult {
  return view(action, r.alert, {
    sent: r.sent,
    targetCount: r.targetCount,
    media: audio ? { sha256: audio.media.sha256, synthesized: audio.synthesized } : null,
  })
}

/** One CAP message at a time decides and applies (audio is made before, outside): no race between two of a chain. */
// Keyed by the repositories: one queue per control plane, whichever deps object a caller holds.
const queues = new WeakMap<object, Promise<unknown>>()
function serially<T>(s: Pick<Services, 'repos'>, fn: () => Promise<T>): Promise<T> {
  const run = (queues.get(s.repos) ?? Promise.resolve()).then(fn)
  queues.set(
    s.repos,
    run.catch(() => {}),
  )
  return run
}

interface Content {
  info: CapInfo
  index: number
  targets: AlertTargets
  schedule: ReturnType<typeof capSchedule>
}

const needsAudio = (plan: CapPlan, content: Content | null) =>
  content !== null && !content.schedule.expired && (plan.act === 'raise' || plan.act === 'revise')

/**
 * CAP Alert raises, Update replaces (new revision), Cancel withdraws, each only within its status and in `sent`
 * order (alerts/cap/chain.ts); a repeated message changes nothing. Every check on the message itself comes first.
 */
export async function ingestCap(
  s: Pick<Services, 'alerts' | 'config' | 'lanes' | 'repos' | 'speech'>,
  xml: string,
  now: () => number = Date.now,
): Promise<CapResult> {
  const cap = parseCapWithInlineAudio(xml)
  capMsgTypeSupported(cap.msgType)
  const audible = capAudible(cap.status)
  capScopeSupported(cap.scope)
  const duplicate = async () => {
    const known = await capDuplicate(s.repos, cap)
    return known && view('duplicate', known.alertId ? await s.repos.alerts.get(known.alertId) : null)
  }
  const repeated = await duplicate()
  if (repeated) return repeated
  const window = { maxAgeS: s.config.capMaxAgeS, maxFutureS: s.config.capMaxFutureS }
  let content: Content | null = null
  if (cap.msgType === 'Cancel') checkSentWindow(cap, null, now(), window)
  else {
    const { info, index } = pickInfo(cap)
    checkSentWindow(cap, info, now(), window)
    const schedule = capSchedule(cap, info, index, now())
    content = { info, index, targets: capTargets(info, index, await s.repos.units.list()), schedule }
  }
  const first = await planCap(s.repos, cap)
  let audio = needsAudio(first, content) && content ? await alertAudio(s, content.info, content.index) : null

  return serially(s, async () => {
    // Decided again: another message of the chain may have been applied while the audio was made.
    const again = await duplicate()
    if (again) return again
    const plan = await planCap(s.repos, cap)
    if (!audio && needsAudio(plan, content) && content)
      audio = await alertAudio(s, content.info, content.index)
    for (const a of plan.end) await s.alerts.cancel(a.id)
    const record = (outcome: CapOutcome, alertId: string | null, chainOf?: string) => {
      const entry: CapLogEntry = {
        sender: cap.sender,
        identifier: cap.identifier,
        sent: cap.sent,
        status: cap.status,
        msgType: cap.msgType,
        alertId,
        outcome,
        receivedAt: new Date(now()).toISOString(),
      }
      return s.repos.capLog.record(entry, plan.cancellations, chainOf)
    }
    if (plan.act === 'none' || !content) {
      const alert = plan.alert ? await s.alerts.get(plan.alert.id) : null
      await record(plan.outcome, alert?.id ?? null)
      return view(plan.outcome, alert, { sent: plan.end.length > 0 })
    }
    const result = await apply(s, plan, content, audio, audible)
    await record(result.action as CapOutcome, result.alertId, plan.alert?.id)
    return result
  })
}

/**
 * Raises or revises. An Update that has expired ends its alert; one with another area moves it (a new alert in its
 * place); one of an alert that is over raises a new one. The chain then follows the new alert.
 */
async function apply(
  s: Pick<Services, 'alerts'>,
  plan: CapPlan,
  content: Content,
  audio: Audio | null,
  audible: boolean,
): Promise<CapResult> {
  const { info, targets, schedule } = content
  const { level, priority } = capBand(info.severity, info.urgency)
  const chain = plan.act === 'revise' ? plan.alert : null
  if (chain && schedule.expired) {
    const a = await s.alerts.cancel(chain.id)
    return view('expired', a, { sent: true })
  }
  const items = audio && !schedule.expired ? [mediaRef(audio.media)] : []
  const title = capTitle(info)
  if (chain && JSON.stringify(chain.targets) === JSON.stringify(targets)) {
    const { startsAt, expiresAt } = schedule
    const r = await s.alerts.revise(chain.id, { title, items, level, priority, audible, startsAt, expiresAt })
    return raised('updated', r, audio)
  }
  const r = await s.alerts.raise({
    title,
    items,
    level,
    priority,
    targets,
    repeat: 1,
    startsAt: schedule.startsAt,
    expiresAt: schedule.expiresAt,
    audible,
    volume: null,
    source: 'cap',
  })
  // Another area: the new alert replaces the old one (raised first, so no target is left without it meanwhile).
  if (chain) await s.alerts.cancel(chain.id)
  return raised(schedule.expired ? 'expired' : 'raised', r, schedule.expired ? null : audio)
}
