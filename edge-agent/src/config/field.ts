import type { TSchema } from '@sinclair/typebox'

/** One configuration field: where it lives in the file, its environment variable, its schema and default. */
/** How an environment value is read: as is, as a number, as JSON, or as a comma-separated list of strings. */
export type FieldKind = 'string' | 'number' | 'json' | 'list'
export interface Field {
  path: string
  env: string
  kind: FieldKind
  schema: TSchema
  /** Shown after the field name when the value fails its schema. */
  rule: string
  default?: unknown
  required?: boolean
  check?: (v: never) => boolean
}
