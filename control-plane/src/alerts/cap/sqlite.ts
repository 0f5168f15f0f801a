import type { Db } from '../../storage/db.js'
import type { CapCancellation, CapLogEntry, CapLogRepository } from './log.js'

interface LogRow {
  sender: string
  identifier: string
  sent: string
  status: string
  msg_type: string
  alert_id: string | null
  outcome: CapLogEntry['outcome']
  received_at: string
}
const toEntry = (r: LogRow): CapLogEntry => ({
  sender: r.sender,
  identifier: r.identifier,
  sent: r.sent,
  status: r.status,
  msgType: r.msg_type,
  alertId: r.alert_id,
  outcome: r.outcome,
  receivedAt: r.received_at,
})

export function sqliteCapLog(db: Db): CapLogRepository {
  const get = db.prepare('SELECT * FROM cap_log WHERE sender = ? AND identifier = ?')
  const newest = db.prepare('SELECT * FROM cap_log WHERE alert_id = ? ORDER BY sent DESC LIMIT 1')
  const cancelledAt = db.prepare(
    `SELECT MAX(sent) AS sent FROM cap_log WHERE alert_id = ? AND msg_type = 'Cancel' AND outcome = 'cancelled'`,
  )
  const cancellation = db.prepare(
    'SELECT * FROM cap_cancelled WHERE sender = ? AND identifier = ? AND status = ?',
  )
  const insert =
    db.prepare(`INSERT INTO cap_log (sender, identifier, sent, status, msg_type, alert_id, outcome,
    received_at) VALUES (@sender, @identifier, @sent, @status, @msgType, @alertId, @outcome, @receivedAt)`)
  const cancel = db.prepare(`INSERT INTO cap_cancelled (sender, identifier, status, sent, cancel_sender,
    cancel_identifier, cancel_sent, at) VALUES (@sender, @identifier, @status, @sent, @bySender, @byIdentifier,
    @bySent, @at)
    ON CONFLICT (sender, identifier, status) DO UPDATE SET sent = excluded.sent, cancel_sender = excluded.cancel_sender,
      cancel_identifier = excluded.cancel_identifier, cancel_sent = excluded.cancel_sent, at = excluded.at
    WHERE excluded.cancel_sent > cap_cancelled.cancel_sent`)
  const move = db.prepare('UPDATE cap_log SET alert_id = ? WHERE alert_id = ?')
  const record = db.transaction((entry: CapLogEntry, cancellations: CapCancellation[], chainOf?: string) => {
    if (chainOf && entry.alertId && chainOf !== entry.alertId) move.run(entry.alertId, chainOf)
    insert.run(entry)
    for (const c of cancellations) {
      cancel.run({
        sender: c.sender,
        identifier: c.identifier,
        status: c.status,
        sent: c.sent,
        bySender: c.by.sender,
        byIdentifier: c.by.identifier,
        bySent: c.by.sent,
        at: entry.receivedAt,
      })
    }
  })
  return {
    async get(sender, identifier) {
      const r = get.get(sender, identifier) as LogRow | undefined
      return r ? toEntry(r) : null
    },
    async newest(alertId) {
      const r = newest.get(alertId) as LogRow | undefined
      return r ? toEntry(r) : null
    },
    async cancelledAt(alertId) {
      return (cancelledAt.get(alertId) as { sent: string | null }).sent
    },
    async cancellation(sender, identifier, status) {
      const r = cancellation.get(sender, identifier, status) as
        | {
            sender: string
            identifier: string
            status: string
            sent: string
            cancel_sender: string
            cancel_identifier: string
            cancel_sent: string
          }
        | undefined
      return r
        ? {
            sender: r.sender,
            identifier: r.identifier,
            status: r.status,
            sent: r.sent,
            by: { sender: r.cancel_sender, identifier: r.cancel_identifier, sent: r.cancel_sent },
          }
        : null
    },
    async record(entry, cancellations, chainOf) {
      record(entry, cancellations, chainOf)
    },
  }
}
