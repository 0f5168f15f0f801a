import uPlot from 'uplot'
import { describe, expect, it } from 'vitest'
import { localiseDateTemplate, VI_DATE_NAMES } from './chart-dates'

// uPlot's own formatter with the rewritten templates, on a fixed instant (local time of the test machine).
const at = new Date(2026, 11, 25, 7, 5, 9)
const vi = (tpl: string) => uPlot.fmtDate(localiseDateTemplate(tpl, 'vi'), VI_DATE_NAMES)(at)

describe('chart time labels', () => {
  it('put the day before the month and use a 24-hour clock in Vietnamese', () => {
    expect(vi('{M}/{D}')).toBe('25/12')
    expect(vi('\n{M}/{D}/{YY}')).toBe('\n25/12/26')
    expect(vi('{h}:{mm}{aa}')).toBe('07:05')
    expect(vi('{h}{aa}')).toBe('07:00')
    expect(vi('{YYYY}-{MM}-{DD} {h}:{mm}{aa}')).toBe('25/12/2026 07:05')
    expect(vi('{MMM}')).toBe('Th12')
    expect(vi('{WWW} {D}')).toBe('T6 25')
  })

  it('read 19:30 as 19:30, not 7:30pm', () => {
    const evening = new Date(2026, 0, 2, 19, 30)
    expect(uPlot.fmtDate(localiseDateTemplate('{h}:{mm}{aa}', 'vi'), VI_DATE_NAMES)(evening)).toBe('19:30')
  })

  it('leave English as uPlot writes it', () => {
    expect(localiseDateTemplate('{M}/{D} {h}:{mm}{aa}', 'en')).toBe('{M}/{D} {h}:{mm}{aa}')
    expect(uPlot.fmtDate('{M}/{D}')(at)).toBe('12/25')
  })
})
