import type { Db } from '../storage/db.js'
import type { UntargetedReport, UntargetedThing } from './model.js'

/** A thing sent to many clusters, whose targets are a per-target table (commands/sqlite-targets.ts). */
export type FanoutThing = Exclude<UntargetedThing, 'command'>

/** What an upward report is about, when it comes from a cluster outside that thing's targets. */
export interface Outside {
  thing: UntargetedThing
  thingId: string
}

interface Row {
  id: string
  cluster_id: string
  channel: UntargetedReport['channel']
  thing: UntargetedThing
  thing_id: string
  command_id: string | null
  stage: string
  at: string
  received_at: string
}

const toReport = (r: Row): UntargetedReport => ({
  id: r.id,
  clusterId: r.cluster_id,
  channel: r.channel,
  thing: r.thing,
  thingId: r.thing_id,
  commandId: r.command_id,
  stage: r.stage,
  at: r.at,
  receivedAt: r.received_at,
})

const TARGETS: Record<FanoutThing, { table: string; key: string; parent: string }> = {
  alert: { table: 'alert_targets', key: 'alert_id', parent: 'alerts' },
  live: { table: 'live_targets', key: 'live_id', parent: 'lives' },
}

/**
 * Acknowledgements and plays from clusters a command never targeted: a box carried out a command that was not for it
 * (an agent from before recipients, or one misbehaving), or a replay reached it. They are kept in
 * `untargeted_reports` with an event on the cluster (`report-untargeted`), never in `command_acks` or `plays`, so no
 * count, stage or report includes them. Run inside the ingest transaction.
 */
export function untargetedReports(db: Db) {
  const command = db.prepare('SELECT cluster_id FROM commands WHERE id = ?')
  const fanout = db.prepare('SELECT thing, thing_id FROM fanout_commands WHERE command_id = ?')
  const register =
    db.prepare(`INSERT OR IGNORE INTO fanout_commands (command_id, kind, thing, thing_id, created_at)
    VALUES (?, ?, ?, ?, ?)`)
  const stmts = (t: (typeof TARGETS)[FanoutThing]) => ({
    exists: db.prepare(`SELECT 1 FROM ${t.parent} WHERE id = ?`),
    targeted: db.prepare(`SELECT 1 FROM ${t.table} WHERE ${t.key} = ? AND cluster_id = ?`),
  })
  const targets = { alert: stmts(TARGETS.alert), live: stmts(TARGETS.live) }
  const ins = db.prepare(`INSERT OR IGNORE INTO untargeted_reports (id, cluster_id, channel, thing, thing_id,
    command_id, stage, at, body, received_at) VALUES (@id, @clusterId, @channel, @thing, @thingId, @commandId, @stage,
    @at, @body, @receivedAt)`)
  const insEvent =
    db.prepare(`INSERT OR IGNORE INTO events (id, cluster_id, at, kind, severity, message, data,
    source, received_at) VALUES (?, ?, ?, 'report-untargeted', 'warning', ?, ?, 'control-plane', ?)`)
  const byThing = db.prepare(
    'SELECT * FROM untargeted_reports WHERE thing = ? AND thing_id = ? ORDER BY at, id LIMIT ?',
  )
  const grouped = db.prepare(
    'SELECT channel, thing, count(*) AS n FROM untargeted_reports GROUP BY channel, thing',
  )
  const outsideOf = (thing: FanoutThing, thingId: string, clusterId: string): Outside | null =>
    targets[thing].targeted.get(thingId, clusterId) ? null : { thing, thingId }

  return {
    /** Remembers which alert or live relay a fanned-out command id is about (before its acks can arrive). */
    register(commandId: string, kind: string, thing: FanoutThing, thingId: string): void {
      register.run(commandId, kind, thing, thingId, new Date().toISOString())
    },
    /** Null when `clusterId` was a target of the command, or the command id is not one the control plane sent. */
    ackOutside(commandId: string, clusterId: string): Outside | null {
      const c = command.get(commandId) as { cluster_id: string } | undefined
      if (c) return c.cluster_id === clusterId ? null : { thing: 'command', thingId: commandId }
      const f = fanout.get(commandId) as { thing: FanoutThing; thing_id: string } | undefined
      return f ? outsideOf(f.thing, f.thing_id, clusterId) : null
    },
    /** Plays of an alert or a live relay carry its id as `scheduleId`. */
    playOutside(scheduleId: string | null, clusterId: string): Outside | null {
      if (scheduleId === null) return null
      for (const thing of ['alert', 'live'] as const) {
        if (targets[thing].exists.get(scheduleId)) return outsideOf(thing, scheduleId, clusterId)
      }
      return null
    },
    /** Stores the report and its event; false if it was stored before (a re-send). */
    flag(r: Omit<UntargetedReport, 'thing' | 'thingId'> & Outside, body: unknown): boolean {
      if (ins.run({ ...r, body: JSON.stringify(body) }).changes === 0) return false
      const what = r.channel === 'ack' ? `ack ${r.stage}` : `play ${r.stage}`
      insEvent.run(
        `${r.id}:untargeted`,
        r.clusterId,
        r.at,
        `Báo cáo từ cụm loa không được nhắm tới / ${what} for ${r.thing} ${r.thingId}, which never targeted this cluster`,
        JSON.stringify({
          channel: r.channel,
          thing: r.thing,
          thingId: r.thingId,
          commandId: r.commandId,
          stage: r.stage,
          messageId: r.id,
        }),
        r.receivedAt,
      )
      return true
    },
    list(thing: UntargetedThing, thingId: string, limit = 1000): UntargetedReport[] {
      return (byThing.all(thing, thingId, limit) as Row[]).map(toReport)
    },
    counts(): { channel: string; thing: string; n: number }[] {
      return grouped.all() as { channel: string; thing: string; n: number }[]
    },
  }
}

export type UntargetedReports = ReturnType<typeof untargetedReports>
