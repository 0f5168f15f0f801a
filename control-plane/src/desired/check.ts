import {
  type DesiredStateBody as Body,
  DesiredStateBody,
  DESIRED_LIMITS as L,
  MediaRef,
  ScheduleEntry,
} from '@loa/shared'
import type { TSchema } from '@sinclair/typebox'
import { type TypeCheck, TypeCompiler } from '@sinclair/typebox/compiler'

/** Why a compiled desired state must not be published: the limit it breaks and `field: problem`. */
export interface DesiredProblem {
  /** The DESIRED_LIMITS key it breaks (`maxBytes` for the size), or `schema` for anything else the agent refuses. */
  limit: keyof typeof L | 'schema'
  /** e.g. `schedule: 2001 entries, the limit is 2000`. */
  detail: string
}

const COUNTS: { limit: keyof typeof L; field: string; what: string; count: (b: Body) => number }[] = [
  { limit: 'schedule', field: 'schedule', what: 'schedule entries', count: (b) => b.schedule.length },
  { limit: 'media', field: 'media', what: 'media files', count: (b) => b.media.length },
  {
    limit: 'units',
    field: 'units',
    what: 'units above the cluster (the depth of the tree)',
    count: (b) => b.units.length,
  },
  { limit: 'relays', field: 'relays', what: 'recurring relays', count: (b) => b.relays?.length ?? 0 },
  { limit: 'alerts', field: 'alerts', what: 'active alerts', count: (b) => b.alerts?.length ?? 0 },
  { limit: 'lives', field: 'lives', what: 'live relays', count: (b) => b.lives?.length ?? 0 },
  {
    limit: 'fallbackItems',
    field: 'fallback.items',
    what: 'fallback items',
    count: (b) => b.fallback?.items.length ?? 0,
  },
  {
    limit: 'fallbackWindows',
    field: 'fallback.windows',
    what: 'fallback windows',
    count: (b) => b.fallback?.windows.length ?? 0,
  },
]

let compiled: { body: TypeCheck<TSchema>; entry: TypeCheck<TSchema>; media: TypeCheck<TSchema> } | null = null
const checkers = () => {
  compiled ??= {
    body: TypeCompiler.Compile(DesiredStateBody),
    entry: TypeCompiler.Compile(ScheduleEntry),
    media: TypeCompiler.Compile(MediaRef),
  }
  return compiled
}

function schemaProblem(check: TypeCheck<TSchema>, value: unknown, prefix: string): DesiredProblem {
  const e = check.Errors(value).First()
  const path = `${prefix}${e?.path ?? ''}`.replace(/^\//, '').replaceAll('/', '.') || 'body'
  return { limit: 'schema', detail: `${path}: ${e?.message ?? 'refused by the desired-state schema'}` }
}

/**
 * Checks compiled desired states against what the agents accept: the counts and the byte size of DESIRED_LIMITS,
 * then the agents' own TypeBox schema. States of one recomputation share their schedule entries and media
 * references (desired/state.ts), so each shared object is checked once per validator, not once per cluster: the
 * result is the same as checking every state whole (desired-check.test.ts), at a fraction of the cost.
 */
export class DesiredValidator {
  private readonly goodEntries = new WeakSet<object>()
  private readonly goodMedia = new WeakSet<object>()

  constructor(private readonly maxBodyBytes: number) {}

  /** `bytes`: the UTF-8 size of the body as it will be published. Null when the state is fit to publish. */
  check(body: Body, bytes: number): DesiredProblem | null {
    for (const c of COUNTS) {
      const n = c.count(body)
      if (n > L[c.limit]) {
        return { limit: c.limit, detail: `${c.field}: ${n} ${c.what}, the limit is ${L[c.limit]}` }
      }
    }
    const tooManyItems = body.schedule.find((e) => e.items.length > L.itemsPerEntry)
    if (tooManyItems) {
      return {
        limit: 'itemsPerEntry',
        detail: `schedule: entry "${tooManyItems.id}" plays ${tooManyItems.items.length} items, the limit is ${L.itemsPerEntry}`,
      }
    }
    if (bytes > this.maxBodyBytes) {
      return {
        limit: 'maxBytes',
        detail: `body: ${bytes} bytes (${body.schedule.length} schedule entries, ${body.media.length} media files), the limit is ${this.maxBodyBytes}`,
      }
    }
    const c = checkers()
    for (const [i, e] of body.schedule.entries()) {
      if (this.goodEntries.has(e)) continue
      if (!c.entry.Check(e)) return schemaProblem(c.entry, e, `schedule/${i}`)
      this.goodEntries.add(e)
    }
    for (const [i, m] of body.media.entries()) {
      if (this.goodMedia.has(m)) continue
      if (!c.media.Check(m)) return schemaProblem(c.media, m, `media/${i}`)
      this.goodMedia.add(m)
    }
    // Everything else, with the two arrays whose elements were checked above emptied.
    const rest = { ...body, schedule: [], media: [] }
    return c.body.Check(rest) ? null : schemaProblem(c.body, rest, '')
  }
}
