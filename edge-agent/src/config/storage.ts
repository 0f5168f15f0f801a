import { Type } from '@sinclair/typebox'
import type { Field } from './field.js'

/** The agent's database and data disk (docs/edge-agent.md, Storage). */
export interface StorageConfig {
  /** Live pages of agent.db beyond this: the oldest receipted plays and amplifier switch log rows go first. */
  dbBudgetMb: number
  /** Receipted plays and amplifier switch log rows older than this are deleted. */
  playRetentionDays: number
  /** Kept free for the play log and the outbox: given up when the disk is full, taken back when room returns. */
  reserveMb: number
  /** Damaged databases kept on the box for diagnosis (agent.db.corrupt-<ts>). */
  keepDamaged: number
  /** How often the free space is checked while the disk is full or media wait for room. */
  diskCheckS: number
}

export const STORAGE_FIELDS: Field[] = [
  {
    path: 'storage.dbBudgetMb',
    env: 'LOA_DB_BUDGET_MB',
    kind: 'number',
    schema: Type.Number({ minimum: 1, maximum: 100_000 }),
    rule: 'must be a number 1–100000',
    default: 200,
  },
  {
    path: 'storage.playRetentionDays',
    env: 'LOA_PLAY_RETENTION_DAYS',
    kind: 'number',
    schema: Type.Integer({ minimum: 1, maximum: 3650 }),
    rule: 'must be an integer 1–3650',
    default: 30,
  },
  {
    path: 'storage.reserveMb',
    env: 'LOA_DISK_RESERVE_MB',
    kind: 'number',
    schema: Type.Number({ minimum: 0, maximum: 4096 }),
    rule: 'must be a number 0–4096 (0: no reserve)',
    default: 16,
  },
  {
    path: 'storage.keepDamaged',
    env: 'LOA_KEEP_DAMAGED_DB',
    kind: 'number',
    schema: Type.Integer({ minimum: 0, maximum: 10 }),
    rule: 'must be an integer 0–10',
    default: 2,
  },
  {
    path: 'storage.diskCheckS',
    env: 'LOA_DISK_CHECK_S',
    kind: 'number',
    schema: Type.Integer({ minimum: 1, maximum: 3600 }),
    rule: 'must be an integer 1–3600',
    default: 30,
  },
]
