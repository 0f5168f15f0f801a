import { type DesiredStateBody, recurrenceProblems, windowProblems } from '@loa/shared'

/** Every sha256 a desired state needs: scheduled items, fallback items and the media list itself. */
export function referencedMedia(body: DesiredStateBody | undefined | null): Set<string> {
  const out = new Set<string>()
  if (!body) return out
  for (const m of body.media) out.add(m.sha256)
  return out
}

/**
 * Drops schedule entries and fallback windows that fail the checks a schema cannot make, and entries whose items
 * are not in the media list. Returns the cleaned body and one problem per dropped part.
 */
export function sanitizeDesired(body: DesiredStateBody): {
  body: DesiredStateBody
  problems: { id: string; problems: string[] }[]
} {
  const known = new Set(body.media.map((m) => m.sha256))
  const problems: { id: string; problems: string[] }[] = []
  const schedule = body.schedule.filter((e, i) => {
    const p = recurrenceProblems(e.recurrence, `schedule[${i}].recurrence`)
    for (const sha of e.items) if (!known.has(sha)) p.push(`schedule[${i}].items: ${sha} is not in media`)
    if (p.length > 0) problems.push({ id: e.id, problems: p })
    return p.length === 0
  })
  let fallback = body.fallback
  if (fallback) {
    const windows = fallback.windows.filter((w, i) => {
      const p = windowProblems(w, `fallback.windows[${i}]`)
      if (p.length > 0) problems.push({ id: 'fallback', problems: p })
      return p.length === 0
    })
    const missing = fallback.items.filter((sha) => !known.has(sha))
    if (missing.length > 0) {
      problems.push({
        id: 'fallback',
        problems: missing.map((sha) => `fallback.items: ${sha} is not in media`),
      })
      fallback = null
    } else fallback = { ...fallback, windows }
  }
  return { body: { ...body, schedule, fallback }, problems }
}
