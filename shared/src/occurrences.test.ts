import { describe, expect, it } from 'vitest'
import { inWindow, nextOccurrence, occurrencesBetween } from './occurrences.js'
import type { Recurrence } from './recurrence.js'

const TZ = 'Asia/Ho_Chi_Minh'
const iso = (ds: Date[]) => ds.map((d) => d.toISOString())

describe('occurrencesBetween', () => {
  it('once: inside the half-open range only', () => {
    const r: Recurrence = { kind: 'once', at: '2026-03-02T01:00:00Z' }
    expect(
      iso(occurrencesBetween(r, TZ, new Date('2026-03-02T00:00:00Z'), new Date('2026-03-02T02:00:00Z'))),
    ).toEqual(['2026-03-02T01:00:00.000Z'])
    expect(
      occurrencesBetween(r, TZ, new Date('2026-03-02T01:00:00.001Z'), new Date('2026-03-03T00:00:00Z')),
    ).toEqual([])
    expect(
      occurrencesBetween(r, TZ, new Date('2026-03-02T00:00:00Z'), new Date('2026-03-02T01:00:00Z')),
    ).toEqual([])
  })

  it('weekly 06:00 local in Ho Chi Minh City is 23:00Z the previous day', () => {
    // 2026-03-02 is a Monday.
    const r: Recurrence = { kind: 'weekly', daysOfWeek: [1], times: ['06:00'], startDate: '2026-03-01' }
    const got = occurrencesBetween(r, TZ, new Date('2026-03-01T00:00:00Z'), new Date('2026-03-15T00:00:00Z'))
    expect(iso(got)).toEqual(['2026-03-01T23:00:00.000Z', '2026-03-08T23:00:00.000Z'])
  })

  it('weekly: days of week, several times, start and end dates', () => {
    const r: Recurrence = {
      kind: 'weekly',
      daysOfWeek: [6, 7],
      times: ['17:30', '06:15:30'],
      startDate: '2026-03-08',
      endDate: '2026-03-14',
    }
    // Sat 7 is before startDate, Sun 8 and Sat 14 are in, Sun 15 is after endDate.
    const got = occurrencesBetween(r, TZ, new Date('2026-03-01T00:00:00Z'), new Date('2026-04-01T00:00:00Z'))
    expect(iso(got)).toEqual([
      '2026-03-07T23:15:30.000Z',
      '2026-03-08T10:30:00.000Z',
      '2026-03-13T23:15:30.000Z',
      '2026-03-14T10:30:00.000Z',
    ])
  })

  it('interval: every N minutes inside the daily window, until excluded', () => {
    const r: Recurrence = {
      kind: 'interval',
      daysOfWeek: [1, 2, 3, 4, 5, 6, 7],
      everyMinutes: 45,
      from: '07:00',
      until: '09:00',
      startDate: '2026-03-02',
      endDate: '2026-03-02',
    }
    const got = occurrencesBetween(r, TZ, new Date('2026-03-01T00:00:00Z'), new Date('2026-03-05T00:00:00Z'))
    expect(iso(got)).toEqual([
      '2026-03-02T00:00:00.000Z',
      '2026-03-02T00:45:00.000Z',
      '2026-03-02T01:30:00.000Z',
    ])
  })

  it('rejects an invalid time zone', () => {
    const r: Recurrence = { kind: 'weekly', daysOfWeek: [1], times: ['06:00'], startDate: '2026-03-01' }
    expect(() => occurrencesBetween(r, 'Mars/Olympus', new Date(0), new Date(1e12))).toThrow(/time zone/)
  })

  it('nextOccurrence finds the next Monday', () => {
    const r: Recurrence = { kind: 'weekly', daysOfWeek: [1], times: ['06:00'], startDate: '2026-01-01' }
    expect(nextOccurrence(r, TZ, new Date('2026-03-02T00:00:00Z'))?.toISOString()).toBe(
      '2026-03-08T23:00:00.000Z',
    )
  })
})

describe('inWindow', () => {
  const windows = [{ daysOfWeek: [1, 2, 3, 4, 5], from: '05:00', until: '07:00' }]
  it('uses local wall-clock time and weekday', () => {
    // Mon 2026-03-02 05:00 local = Sun 22:00Z.
    expect(inWindow(windows, new Date('2026-03-01T22:00:00Z'), TZ)).toBe(true)
    expect(inWindow(windows, new Date('2026-03-01T21:59:59Z'), TZ)).toBe(false)
    expect(inWindow(windows, new Date('2026-03-02T00:00:00Z'), TZ)).toBe(false)
    // Sun 2026-03-01 05:30 local: not a window day.
    expect(inWindow(windows, new Date('2026-02-28T22:30:00Z'), TZ)).toBe(false)
    expect(inWindow([], new Date(), TZ)).toBe(false)
  })
})
