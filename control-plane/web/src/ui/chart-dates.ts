import type { Lang } from '../i18n'

/**
 * Time labels on charts in the reader's language. uPlot formats its axis ticks and legend with US templates
 * ("{M}/{D}", "{h}:{mm}{aa}") and English names; Vietnamese readers expect day before month and a 24-hour clock.
 */
export interface DateNames {
  MMMM: string[]
  MMM: string[]
  WWWW: string[]
  WWW: string[]
}

const months = Array.from({ length: 12 }, (_, i) => i + 1)

export const VI_DATE_NAMES: DateNames = {
  MMMM: months.map((m) => `Tháng ${m}`),
  MMM: months.map((m) => `Th${m}`),
  WWWW: ['Chủ nhật', 'Thứ hai', 'Thứ ba', 'Thứ tư', 'Thứ năm', 'Thứ sáu', 'Thứ bảy'],
  WWW: ['CN', 'T2', 'T3', 'T4', 'T5', 'T6', 'T7'],
}

/** A uPlot date template rewritten for `lang` (English keeps uPlot's own). */
export function localiseDateTemplate(tpl: string, lang: Lang): string {
  if (lang === 'en') return tpl
  return tpl
    .replace('{YYYY}-{MM}-{DD}', '{DD}/{MM}/{YYYY}')
    .replace('{M}/{D}/{YY}', '{D}/{M}/{YY}')
    .replace('{M}/{D}', '{D}/{M}')
    .replace(/\{h\}:\{mm\}(:\{ss\})?\{aa\}/g, (_m, secs: string | undefined) => `{HH}:{mm}${secs ?? ''}`)
    .replace(/\{h\}\{aa\}/g, '{HH}:00')
}
