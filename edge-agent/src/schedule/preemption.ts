import type { PreemptPolicy } from '@loa/shared'
import { type Report, reportBase } from '../playback/item-player.js'
import type { QueuedOccurrence } from './arbiter.js'

/** The report of an item that never started (shutdown, or a preemption before it). */
export function skippedReport(q: QueuedOccurrence, sha: string, reason?: string): Report {
  const none = { startedAt: null, endedAt: null, durationMs: 0 }
  const base = { ...reportBase(q, sha), status: 'skipped' as const }
  return reason === undefined ? { ...base, ...none } : { ...base, reason, ...none }
}

/** What follows a preemption of an entry, by its `onPreempt`. */
export interface PreemptionOutcome {
  policy: PreemptPolicy
  /** To report now: the interrupted item (if it had started, or if dropped) and, when dropped, the rest as skipped. */
  reports: Report[]
  /** The rest of the entry to queue again (restart, resume); null when dropped. */
  requeue: QueuedOccurrence | null
  /** Where the requeued part starts in its first item (resume), 0 from the start. */
  resumeAt: number
}

/**
 * A higher band stopped item `i` of `q` (`r` its report, `offsetMs` where it had started in the file).
 * The rest is queued again under a new key (`~p<nextPart()>`) with the same instant, so the grace period still
 * counts from it.
 */
export function afterPreemption(
  q: QueuedOccurrence,
  i: number,
  offsetMs: number,
  r: { report: Report; started: boolean },
  reason: string,
  nextPart: () => number,
): PreemptionOutcome {
  const policy = q.onPreempt ?? 'restart'
  const reports: Report[] = []
  if (r.started || policy === 'drop') reports.push({ ...r.report, reason })
  const rest = q.items.slice(i + (policy === 'drop' ? 1 : 0))
  if (policy === 'drop') {
    for (const sha of rest) reports.push(skippedReport(q, sha, reason))
    return { policy, reports, requeue: null, resumeAt: 0 }
  }
  const resumeAt = policy === 'resume' && r.started ? offsetMs + r.report.durationMs : 0
  const base = q.key.replace(/~p\d+$/, '')
  const part: QueuedOccurrence = { ...q, key: `${base}~p${nextPart()}`, items: rest }
  if (resumeAt > 0) part.offsetMs = resumeAt
  else delete part.offsetMs
  return { policy, reports, requeue: part, resumeAt }
}
