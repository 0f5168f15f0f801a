import { DesiredValidator } from '@loa/control-plane/testing'
import { DESIRED_BODY_MAX_BYTES, type DesiredStateBody, DesiredStateBody as Schema } from '@loa/shared'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import type { BenchRow } from './desired-fanout.js'
import { fmt } from './util.js'

/**
 * What checking every compiled state costs the control plane: one recomputation of a commune of `clusters`
 * clusters sharing `entries` schedule entries (the issue's burst at its peak). Loa: DesiredValidator (shared
 * entries checked once). Baseline, same run: the agents' TypeBox schema run over each whole state.
 */
export function benchValidate(clusters = 100, entries = 1500): BenchRow[] {
  const sha = (i: number) => i.toString(16).padStart(64, '0')
  const schedule = Array.from({ length: entries }, (_, i) => ({
    id: `s-${i}`,
    title: `Bản tin ${i}`,
    level: 'normal' as const,
    priority: 50,
    items: [sha(i % 20)],
    recurrence: {
      kind: 'weekly' as const,
      daysOfWeek: [1, 2, 3, 4, 5, 6, 7],
      times: ['06:00'],
      startDate: '2026-01-01',
    },
  }))
  const media = Array.from({ length: 20 }, (_, i) => ({
    sha256: sha(i),
    size: 1000,
    url: `/media/${sha(i)}`,
    mime: 'audio/ogg',
    durationMs: 1000,
  }))
  const states: DesiredStateBody[] = Array.from({ length: clusters }, (_, c) => ({
    version: 2,
    generatedAt: '2026-01-01T00:00:00Z',
    deviceId: `c-${c}`,
    timezone: 'Asia/Ho_Chi_Minh',
    units: ['tinh', 'xa-0'],
    volume: 80,
    media,
    schedule,
    fallback: null,
  }))
  const whole = TypeCompiler.Compile(Schema)
  const time = (fn: () => void) => {
    const t0 = performance.now()
    fn()
    return performance.now() - t0
  }
  // Warm both up, then measure one recomputation each.
  for (const s of states.slice(0, 2)) whole.Check(s)
  new DesiredValidator(DESIRED_BODY_MAX_BYTES).check(states[0] as DesiredStateBody, 0)
  const baseMs = time(() => {
    for (const s of states) if (!whole.Check(s)) throw new Error('invalid')
  })
  const loaMs = time(() => {
    const v = new DesiredValidator(DESIRED_BODY_MAX_BYTES)
    for (const s of states) if (v.check(s, 0)) throw new Error('invalid')
  })
  return [
    {
      name: `checking ${clusters} compiled states of ${entries} shared entries (one recomputation)`,
      loa: fmt(loaMs),
      baseline: `${fmt(baseMs)} (whole-state TypeBox check)`,
      ratio: `${(loaMs / baseMs).toFixed(3)}×`,
      throughput: `${Math.round(clusters / (loaMs / 1000))} states/s`,
    },
  ]
}
