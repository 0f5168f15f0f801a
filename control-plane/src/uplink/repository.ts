import type { AckRecord, CommandRecord, UntargetedReport, UntargetedThing } from '../commands/model.js'
import type { EventRecord, IngestRecord, Play, TelemetryRecord } from './model.js'

/** Storage of what devices send up and of the commands they acknowledge, storage-neutral. */

export interface PlayQuery {
  clusterIds?: string[]
  unitIds?: string[]
  scheduleId?: string
  since?: string
  limit: number
}

export interface IngestRepository {
  /** Stores a batch in one transaction; duplicates (same envelope id) are ignored. */
  writeBatch(records: IngestRecord[]): Promise<void>
  listPlays(q: PlayQuery): Promise<Play[]>
  countPlays(): Promise<number>
  listEvents(q: {
    clusterId?: string
    clusterIds?: string[]
    kind?: string
    limit: number
  }): Promise<EventRecord[]>
  listTelemetry(clusterId: string, limit: number): Promise<TelemetryRecord[]>
  createCommand(c: Omit<CommandRecord, 'createdAt'>): Promise<CommandRecord>
  getCommand(id: string): Promise<CommandRecord | null>
  listAcks(commandId: string): Promise<AckRecord[]>
  /** Remembers which alert or live relay a command sent to many clusters (a cancel, a stop) is about. */
  registerFanout(c: {
    commandId: string
    kind: string
    thing: 'alert' | 'live'
    thingId: string
  }): Promise<void>
  /** Acks and plays from clusters the command, alert or live relay never targeted (never counted). */
  listUntargeted(thing: UntargetedThing, thingId: string): Promise<UntargetedReport[]>
  countUntargeted(): Promise<{ channel: string; thing: string; n: number }[]>
}
