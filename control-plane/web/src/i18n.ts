/**
 * Two languages: Vietnamese (default) and English. Each page keeps its own dictionary next to it
 * (`pages/x.i18n.ts`, made with `defineMessages`) so that two people never edit the same file; the shell's
 * words and the API error texts live in `common.i18n.ts`.
 */
export type Lang = 'vi' | 'en'

const STORAGE_KEY = 'loa.lang'
const listeners = new Set<() => void>()

function initialLang(): Lang {
  try {
    return localStorage.getItem(STORAGE_KEY) === 'en' ? 'en' : 'vi'
  } catch {
    return 'vi'
  }
}

let current: Lang = initialLang()

export const lang = (): Lang => current

export function setLang(next: Lang): void {
  current = next
  document.documentElement.lang = next
  try {
    localStorage.setItem(STORAGE_KEY, next)
  } catch {
    // private mode: the choice lasts until the page is closed
  }
  for (const l of listeners) l()
}

export function onLangChange(listener: () => void): () => void {
  listeners.add(listener)
  return () => listeners.delete(listener)
}

export type Vars = Record<string, string | number>
export type Translate<K extends string> = (key: K, vars?: Vars) => string

/** `{name}` in a message is replaced by vars.name. */
const fill = (text: string, vars?: Vars) =>
  vars ? text.replace(/\{(\w+)\}/g, (m, k: string) => (k in vars ? String(vars[k]) : m)) : text

/** A page's dictionary: English must have exactly the Vietnamese keys (the type checker says so). */
export function defineMessages<K extends string>(m: {
  vi: Record<K, string>
  en: Record<K, string>
}): Translate<K> {
  return (key, vars) => fill(m[current][key] ?? m.vi[key] ?? key, vars)
}

/** Has a translation for this key (used for error codes the server may add later). */
export function hasMessage<K extends string>(m: { vi: Record<K, string> }, key: string): key is K {
  return Object.hasOwn(m.vi, key)
}

const LOCALES: Record<Lang, string> = { vi: 'vi-VN', en: 'en-GB' }
export const locale = (): string => LOCALES[current]

export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return '—'
  const d = new Date(iso)
  return Number.isNaN(d.getTime())
    ? iso
    : d.toLocaleString(locale(), { dateStyle: 'short', timeStyle: 'short', hour12: false })
}

export function formatNumber(n: number, digits = 0): string {
  return n.toLocaleString(locale(), { maximumFractionDigits: digits, minimumFractionDigits: digits })
}

/** "5 min ago" / "5 phút trước". */
export function formatAgo(iso: string | null | undefined): string {
  if (!iso) return '—'
  const s = Math.max(0, (Date.now() - Date.parse(iso)) / 1000)
  const rtf = new Intl.RelativeTimeFormat(locale(), { numeric: 'auto' })
  if (s < 60) return rtf.format(-Math.round(s), 'second')
  if (s < 3600) return rtf.format(-Math.round(s / 60), 'minute')
  if (s < 86_400) return rtf.format(-Math.round(s / 3600), 'hour')
  return rtf.format(-Math.round(s / 86_400), 'day')
}
