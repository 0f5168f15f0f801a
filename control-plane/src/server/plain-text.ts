import { type StringOptions, Type } from '@fastify/type-provider-typebox'

/**
 * Names are plain text (docs/security.md, "Browser pages"): every name, title, label and kind the API stores is
 * refused when it holds markup (`<`, `>`) or characters that make text display as something else (C0/C1
 * controls, zero-width characters, bidirectional overrides and isolates, line and paragraph separators). The
 * console shows them as text anyway; refusing them at the door means no other reader of the data (a CSV in a
 * spreadsheet, a report, a future page) meets them either. The unit CSV import applies the same check.
 */

// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
export const HOSTILE_CHARS = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/u
export const MARKUP = /[<>]/

/** The same rule as a JSON-schema pattern, so route schemas refuse such text before any handler runs. */
export const PLAIN_TEXT_PATTERN =
  '^[^<>\\u0000-\\u001f\\u007f-\\u009f\\u200b-\\u200f\\u2028-\\u202e\\u2060-\\u2069\\ufeff]*$'

export const PLAIN_TEXT_PROBLEM =
  'must be plain text: no "<" or ">", control, zero-width or bidirectional-override characters'

/** Why a name is not plain text, or null. */
export function plainTextProblem(text: string): string | null {
  if (HOSTILE_CHARS.test(text)) return 'contains control, zero-width or bidirectional-override characters'
  if (MARKUP.test(text)) return 'contains "<" or ">"'
  return null
}

/** A name, title, label or kind in a route schema: a string that is plain text. */
export const PlainText = (opts: StringOptions = {}) => Type.String({ ...opts, pattern: PLAIN_TEXT_PATTERN })
