import { expandAbbreviations } from './abbreviations.js'
import { decimalWords, digitsWords, integerWords, type Region } from './numbers.js'

/**
 * Vietnamese text normalisation before speech synthesis: abbreviations, phone numbers, dates, ranges, times, units
 * and numbers become words, so a bulletin is read as a person would read it. Passes run in that order; each turns
 * its matches into words, so a later pass never sees them again. Rules and examples: docs/tts.md.
 */

type Replacer = (match: string, ...groups: (string | undefined)[]) => string

/** Runs a replace whose callback also gets the text before the match (for "ngày" already written, etc.). */
function replaceWithContext(
  text: string,
  re: RegExp,
  fn: (m: RegExpExecArray, before: string) => string | null,
): string {
  let out = ''
  let last = 0
  for (const m of text.matchAll(re)) {
    const replacement = fn(m as RegExpExecArray, text.slice(Math.max(0, m.index - 12), m.index))
    if (replacement === null) continue
    out += text.slice(last, m.index) + replacement
    last = m.index + m[0].length
  }
  return out + text.slice(last)
}

const validDay = (d: number) => d >= 1 && d <= 31
const validMonth = (m: number) => m >= 1 && m <= 12

/** Days 1–10 are "mùng một" … "mùng mười", as on the radio. */
function dayWords(d: number, r: Region, before: string): string {
  const words = integerWords(d, r)
  return d <= 10 && !/mùng\s*$/iu.test(before) ? `mùng ${words}` : words
}

function monthWords(m: number, r: Region): string {
  return m === 4 ? 'tư' : integerWords(m, r)
}

const NGAY_BEFORE = /(?:ngày|mùng|hôm)\s*$/iu

function dateWords(d: number, m: number, y: string | undefined, before: string, r: Region): string {
  const prefix = NGAY_BEFORE.test(before) ? '' : 'ngày '
  const year = y === undefined ? '' : ` năm ${integerWords(y, r)}`
  return `${prefix}${dayWords(d, r, before)} tháng ${monthWords(m, r)}${year}`
}

function phones(text: string): string {
  // Mobile and landline numbers: 0 or +84 then 9–10 digits, optionally grouped by spaces, dots or dashes.
  let out = replaceWithContext(
    text,
    /(?<![\p{L}\p{N}.,+])(\+84[ .-]?|0)(\d(?:[ .-]?\d){7,9})(?![\p{N}])/gu,
    (m) => {
      const prefix = (m[1] as string).trim().replace(/[.-]$/, '')
      const body = m[2] as string
      const digits = body.replace(/\D/g, '')
      const total = prefix === '0' ? digits.length + 1 : digits.length
      if (prefix === '0' ? total < 10 || total > 11 : total < 9 || total > 10) return null
      const groups = /[ .-]/.test(body) ? body.split(/[ .-]/) : null
      const all = (prefix === '0' ? '0' : '') + digits
      const chunks = groups
        ? prefix === '0'
          ? [`0${groups[0]}`, ...groups.slice(1)]
          : groups
        : all.length === 10
          ? [all.slice(0, 4), all.slice(4, 7), all.slice(7)]
          : [all.slice(0, 3), all.slice(3, 7), all.slice(7)]
      const spoken = chunks.filter(Boolean).map(digitsWords).join(', ')
      return prefix === '+84' ? `cộng tám bốn, ${spoken}` : spoken
    },
  )
  // Hotlines (1800/1900 …) and the short emergency numbers after a word that announces a number.
  out = out.replace(
    /(?<![\p{L}\p{N}])(1[89]00)[ .]?(\d{4}(?:\d{2})?)(?![\p{N}])/gu,
    (_m, a: string, b: string) => [a, b].map(digitsWords).join(', '),
  )
  out = out.replace(
    /((?:gọi|số|đường dây nóng|tổng đài|hotline)\s+)(11[1-6])(?![\p{N}])/giu,
    (_m, lead: string, n: string) => `${lead}${digitsWords(n)}`,
  )
  return out
}

function dates(text: string, r: Region): string {
  // A range of days in one month: 25-27/12(/2026).
  let out = replaceWithContext(
    text,
    /(?<![\p{N}/.])(\d{1,2})\s*[-–]\s*(\d{1,2})\/(\d{1,2})(?:\/(\d{4}))?(?![\p{N}/])/gu,
    (m, before) => {
      const [d1, d2, mo] = [Number(m[1]), Number(m[2]), Number(m[3])]
      if (!validDay(d1) || !validDay(d2) || !validMonth(mo)) return null
      const prefix = NGAY_BEFORE.test(before) ? '' : 'ngày '
      const year = m[4] === undefined ? '' : ` năm ${integerWords(m[4], r)}`
      return `${prefix}${dayWords(d1, r, before)} đến ${dayWords(d2, r, '')} tháng ${monthWords(mo, r)}${year}`
    },
  )
  // Full dates with the same separator twice: 25/12/2026, 25-12-2026, 25.12.2026.
  out = replaceWithContext(
    out,
    /(?<![\p{N}/.,])(\d{1,2})([/.-])(\d{1,2})\2(\d{4})(?![\p{N}/.])/gu,
    (m, before) => {
      const [d, mo] = [Number(m[1]), Number(m[3])]
      if (!validDay(d) || !validMonth(mo)) return null
      return dateWords(d, mo, m[4], before, r)
    },
  )
  // Month and year after "tháng": tháng 12/2026.
  out = out.replace(
    /(tháng\s+)(\d{1,2})\/(\d{4})(?![\p{N}])/giu,
    (all, lead: string, mo: string, y: string) =>
      validMonth(Number(mo)) ? `${lead}${monthWords(Number(mo), r)} năm ${integerWords(y, r)}` : all,
  )
  // Document numbers: Thông tư 39/2020/TT-BTTTT → ba mươi chín năm 2020; the issuer's code is not spoken.
  out = out.replace(
    /(?<![\p{N}/.,])(\d{1,5})\/((?:19|20)\d{2})(?:\/[\p{L}\p{N}&-]+)?(?![\p{N}/])/gu,
    (_m, n: string, y: string) => `${integerWords(n, r)} năm ${integerWords(y, r)}`,
  )
  // Day and month: 25/12 (a fraction is rare in a bulletin, a date is not).
  out = replaceWithContext(out, /(?<![\p{N}/.,])(\d{1,2})\/(\d{1,2})(?![\p{N}/])/gu, (m, before) => {
    const [d, mo] = [Number(m[1]), Number(m[2])]
    if (!validDay(d) || !validMonth(mo)) return null
    return dateWords(d, mo, undefined, before, r)
  })
  return out
}

/** 7-9 giờ → 7 đến 9 giờ; 7h-9h → 7h đến 9h. A dash after a letter (COVID-19) or before a sign is left alone. */
function ranges(text: string): string {
  return text.replace(
    /(?<![\p{L}])(\d+(?:[.,:]\d+)*[hH]?(?:\d{2})?)\s*[-–]\s*(?=\d)/gu,
    (_m, left: string) => `${left} đến `,
  )
}

function times(text: string, r: Region): string {
  const hm: Replacer = (all, h, mi, after) => {
    const hour = Number(h)
    const minute = Number(mi ?? '0')
    if (hour > 24 || minute > 59) return all
    const minutes = minute === 0 ? '' : ` ${integerWords(minute, r)}${after ? '' : ' phút'}`
    return `${integerWords(hour, r)} giờ${minutes}${after ?? ''}`
  }
  return text
    .replace(/(?<![\p{L}\p{N}:.,])(\d{1,2})[hH:](\d{2})(?![\p{N}:])(\s*phút)?/gu, hm)
    .replace(/(?<![\p{L}\p{N}:.,])(\d{1,2})[hH](?![\p{L}\p{N}])/gu, (all, h: string) => hm(all, h, undefined))
}

/** Units written after a number (the number itself is read by the next pass). Longer units first. */
const UNITS: ReadonlyArray<readonly [string, string]> = [
  ['km/h', 'ki-lô-mét trên giờ'],
  ['m/s', 'mét trên giây'],
  ['km²', 'ki-lô-mét vuông'],
  ['km2', 'ki-lô-mét vuông'],
  ['m²', 'mét vuông'],
  ['m2', 'mét vuông'],
  ['m³', 'mét khối'],
  ['m3', 'mét khối'],
  ['°C', 'độ xê'],
  ['ºC', 'độ xê'],
  ['kWh', 'ki-lô-oát giờ'],
  ['kW', 'ki-lô-oát'],
  ['MW', 'mê-ga-oát'],
  ['km', 'ki-lô-mét'],
  ['cm', 'xăng-ti-mét'],
  ['mm', 'mi-li-mét'],
  ['ml', 'mi-li-lít'],
  ['kg', 'ki-lô-gam'],
  ['ha', 'héc-ta'],
  ['VNĐ', 'đồng'],
  ['VND', 'đồng'],
  ['USD', 'đô la Mỹ'],
  ['m', 'mét'],
  ['g', 'gam'],
  ['đ', 'đồng'],
  ['%', 'phần trăm'],
  ['°', 'độ'],
]
const UNIT_RE = new RegExp(
  `(\\d)\\s?(${UNITS.map(([u]) => u.replace(/[/.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})(?![\\p{L}\\p{N}])`,
  'gu',
)
const UNIT_WORDS = new Map(UNITS)

function units(text: string): string {
  return text.replace(UNIT_RE, (_m, d: string, u: string) => `${d} ${UNIT_WORDS.get(u)}`)
}

function numberWords(token: string, r: Region): string {
  if (token.includes(',')) {
    const i = token.lastIndexOf(',')
    const int = token.slice(0, i)
    const frac = token.slice(i + 1)
    if (/^\d{1,3}(?:\.\d{3})*$/.test(int) && /^\d+$/.test(frac)) return decimalWords(int, frac, r)
    return token
      .split(/[.,]/)
      .map((p) => numberWords(p, r))
      .join(', ')
  }
  if (token.includes('.')) {
    if (/^\d{1,3}(?:\.\d{3})+$/.test(token)) return integerWords(token.replace(/\./g, ''), r)
    const parts = token.split('.')
    if (parts.length === 2) return decimalWords(parts[0] as string, parts[1] as string, r)
    return parts.map((p) => numberWords(p, r)).join(' chấm ')
  }
  // A long code with a leading zero, or an absurdly long number, is read digit by digit.
  if ((token.length > 2 && token.startsWith('0')) || token.length > 15) return digitsWords(token)
  return integerWords(token, r)
}

function numbers(text: string, r: Region): string {
  // A sign only where it cannot be a dash between two words or numbers.
  const signed = text.replace(/(^|[\s(])[-–](?=\d)/gu, '$1âm ')
  return replaceWithContext(signed, /\d+(?:[.,]\d+)*/gu, (m, before) => {
    const token = m[0]
    const n = Number(token)
    let words: string
    if (/(?:thứ|tháng)\s*$/iu.test(before) && n === 4) words = 'tư'
    else if (/thứ\s*$/iu.test(before) && n === 1) words = 'nhất'
    else words = numberWords(token, r)
    // Keep words apart from letters the number was glued to (H5N1 → H năm N một).
    const text = m.input as string
    const end = m.index + token.length
    const left = m.index > 0 && /[\p{L}]/u.test(text[m.index - 1] as string) ? ' ' : ''
    const right = end < text.length && /[\p{L}]/u.test(text[end] as string) ? ' ' : ''
    return `${left}${words}${right}`
  })
}

function symbols(text: string): string {
  return text
    .replace(/\s*&\s*/g, ' và ')
    .replace(/(?<=\s)\+(?=\s)/g, 'cộng')
    .replace(/%/g, ' phần trăm')
}

export interface NormalizeOptions {
  /** Regional wording of numbers (south: lẻ, ngàn). */
  region?: Region
}

export function normalizeVietnamese(input: string, opts: NormalizeOptions = {}): string {
  const r = opts.region ?? 'north'
  let t = input.normalize('NFC').replace(/[ \t\u00a0]+/g, ' ')
  t = expandAbbreviations(t)
  t = phones(t)
  t = dates(t, r)
  t = ranges(t)
  t = times(t, r)
  t = units(t)
  t = numbers(t, r)
  t = symbols(t)
  return t
    .replace(/[ \t]+/g, ' ')
    .replace(/ +([,.;:!?])/g, '$1')
    .split('\n')
    .map((l) => l.trim())
    .join('\n')
    .trim()
}
