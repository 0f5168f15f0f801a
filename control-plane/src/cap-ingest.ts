import { randomUUID } from 'node:crypto'
import fs from 'node:fs/promises'
import path from 'node:path'
import { mediaRef } from './alert-input.js'
import type { RaiseResult } from './alerts-service.js'
import { decodeBase64, parseCapWithInlineAudio } from './cap-inline-audio.js'
import {
  capAudible,
  capBand,
  capExpiry,
  capMsgTypeSupported,
  capSpeechText,
  capTargets,
  capTitle,
  pickInfo,
} from './cap-map.js'
import type { CapAlert, CapInfo } from './cap-parse.js'
import type { Services } from './context.js'
import type { Alert } from './domain.js'
import { LoaError } from './errors.js'
import { importAudioFile } from './media-import.js'
import type { LaneSlot } from './media-lanes.js'

export interface CapResult {
  /** HTTP status: 201 for a new alert, 200 otherwise. */
  status: number
  action: 'raised' | 'updated' | 'cancelled' | 'duplicate' | 'expired'
  alertId: string
  revision: number
  level: Alert['level']
  priority: number
  audible: boolean
  /** False when nothing went to devices (expired on arrival, duplicate). */
  sent: boolean
  targetCount: number | null
  media: { sha256: string; synthesized: boolean } | null
}

/** Alert audio is made in the alert media lane: ordinary uploads and speech never make it wait (media-lanes.ts). */
const alertAudio = (s: Services, info: CapInfo, index: number) =>
  s.lanes.run({ lane: 'alert', owner: 'cap' }, (slot) => alertAudioIn(s, info, index, slot))

/** Audio for the alert: an audio resource carried inline (derefUri), else the text spoken by the speech engine. */
async function alertAudioIn(s: Services, info: CapInfo, index: number, slot: LaneSlot) {
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

async function referencedAlert(s: Services, cap: CapAlert): Promise<Alert | null> {
  for (const r of cap.references) {
    const known = await s.repos.alerts.capGet(r.sender, r.identifier)
    if (known) return s.repos.alerts.get(known.alertId)
  }
  return null
}

const view = (
  status: number,
  action: CapResult['action'],
  a: Alert,
  extra: Partial<CapResult> = {},
): CapResult => ({
  status,
  action,
  alertId: a.id,
  revision: a.revision,
  level: a.level,
  priority: a.priority,
  audible: a.audible,
  sent: false,
  targetCount: null,
  media: null,
  ...extra,
})

/** CAP Alert raises, Update replaces (new revision), Cancel withdraws; a repeated identifier changes nothing. */
export async function ingestCap(s: Services, xml: string): Promise<CapResult> {
  const cap = parseCapWithInlineAudio(xml)
  capMsgTypeSupported(cap.msgType)
  const audible = capAudible(cap.status)
  const record = (alertId: string) =>
    s.repos.alerts.capPut({
      sender: cap.sender,
      identifier: cap.identifier,
      sent: cap.sent,
      msgType: cap.msgType,
      alertId,
    })

  const seen = await s.repos.alerts.capGet(cap.sender, cap.identifier)
  if (seen) {
    const a = await s.repos.alerts.get(seen.alertId)
    if (a) return view(200, 'duplicate', a)
  }
  const ref = await referencedAlert(s, cap)
  if (cap.msgType === 'Cancel') {
    if (!ref) throw new LoaError('LOA_NOT_FOUND', 'alert/references: no alert known for any reference')
    const a = await s.alerts.cancel(ref.id)
    await record(a.id)
    return view(200, 'cancelled', a, { sent: true })
  }

  const { info, index } = pickInfo(cap)
  const { level, priority } = capBand(info.severity, info.urgency)
  const expiresAt = capExpiry(info)
  const expired = expiresAt <= new Date().toISOString()
  const targets = capTargets(info, index, await s.repos.units.list())
  const title = capTitle(info)

  if (cap.msgType === 'Update' && ref?.state === 'active') {
    if (expired) {
      // An update that has already expired ends the alert it replaces.
      const a = await s.alerts.cancel(ref.id)
      await record(a.id)
      return view(200, 'expired', a)
    }
    const audio = await alertAudio(s, info, index)
    const r = await s.alerts.revise(ref.id, {
      title,
      items: [mediaRef(audio.media)],
      level,
      priority,
      expiresAt,
      audible,
    })
    await record(r.alert.id)
    return raised(200, 'updated', r, audio)
  }

  // An Alert, or an Update of something we never saw (or already over): a new alert.
  const audio = expired ? null : await alertAudio(s, info, index)
  const r = await s.alerts.raise({
    title,
    items: audio ? [mediaRef(audio.media)] : [],
    level,
    priority,
    targets,
    repeat: 1,
    startsAt: new Date().toISOString(),
    expiresAt,
    audible,
    volume: null,
    source: 'cap',
  })
  await record(r.alert.id)
  return raised(expired ? 200 : 201, expired ? 'expired' : 'raised', r, audio)
}

function raised(
  status: number,
  action: CapResult['action'],
  r: RaiseResult,
  audio: { media: { sha256: string }; synthesized: boolean } | null,
): CapResult {
  return view(status, action, r.alert, {
    sent: r.sent,
    targetCount: r.targetCount,
    media: audio ? { sha256: audio.media.sha256, synthesized: audio.synthesized } : null,
  })
}
