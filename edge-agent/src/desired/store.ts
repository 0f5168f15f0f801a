import type { DesiredStateBody } from '@loa/shared'
import type { Db } from '../storage/db.js'

export interface StoredDesired {
  version: number
  body: DesiredStateBody
  at: string
}

/**
 * The newest desired state received and the newest applied (all media ready), in table `desired`. Given the box's
 * `deviceId`, a held state made for another device (a data directory reused under a new id) is treated as none:
 * its units, alerts and lives are never applied here.
 */
export class DesiredStore {
  private cache = new Map<string, StoredDesired | null>()

  constructor(
    private readonly db: Db,
    private readonly deviceId?: string,
  ) {}

  private load(slot: 'received' | 'applied'): StoredDesired | null {
    if (this.cache.has(slot)) return this.cache.get(slot) ?? null
    const row = this.db.prepare('SELECT version, body, at FROM desired WHERE slot = ?').get(slot) as
      | { version: number; body: string; at: string }
      | undefined
    // Both slots usually hold the same version: parse it once (the largest state is megabytes once parsed).
    const other = this.cache.get(slot === 'received' ? 'applied' : 'received')
    const body =
      row && other?.version === row.version
        ? other.body
        : row
          ? (JSON.parse(row.body) as DesiredStateBody)
          : null
    let v: StoredDesired | null = row && body ? { version: row.version, body, at: row.at } : null
    if (v && this.deviceId !== undefined && v.body.deviceId !== this.deviceId) v = null
    this.cache.set(slot, v)
    return v
  }

  received(): StoredDesired | null {
    return this.load('received')
  }

  applied(): StoredDesired | null {
    return this.load('applied')
  }

  private save(slot: 'received' | 'applied', body: DesiredStateBody): void {
    const at = new Date().toISOString()
    this.db
      .prepare(
        `INSERT INTO desired (slot, version, body, at) VALUES (?, ?, ?, ?)
         ON CONFLICT (slot) DO UPDATE SET version = excluded.version, body = excluded.body, at = excluded.at`,
      )
      .run(slot, body.version, JSON.stringify(body), at)
    this.cache.set(slot, { version: body.version, body, at })
  }

  /** Call inside a transaction with the event that reports it. */
  saveReceived(body: DesiredStateBody): void {
    this.save('received', body)
  }

  saveApplied(body: DesiredStateBody): void {
    this.save('applied', body)
  }
}
