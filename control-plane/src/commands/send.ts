import { randomUUID } from 'node:crypto'
import type { CommandKind, TestSpec, UnaddressedCommandBody } from '@loa/shared'
import type { MqttLink } from '../mqtt/link.js'
import { LoaError } from '../server/errors.js'
import type { IngestRepository } from '../uplink/repository.js'
import type { CommandFanout } from './fanout.js'

/** What sending an operator's command to one cluster needs. */
export interface ClusterCommandDeps {
  mqtt: Pick<MqttLink, 'connected'>
  fanout: Pick<CommandFanout, 'sendNow'>
  /** Where the command is recorded, for its acks (GET /api/commands/:commandId). */
  ingest: Pick<IngestRepository, 'createCommand'>
}

export interface ClusterCommand {
  kind: CommandKind | 'test'
  /** The tone of a `test` command (the route checks it is given with `test` and only then). */
  test?: TestSpec
  /** Default 60 s. */
  deadlineS?: number
}

/** A ping, resync or test for one cluster: recorded, then signed and published on the device's topic. */
export async function sendClusterCommand(
  d: ClusterCommandDeps,
  clusterId: string,
  cmd: ClusterCommand,
): Promise<{ commandId: string; deadline: string }> {
  if (!d.mqtt.connected) throw new LoaError('LOA_UNAVAILABLE', 'broker: not connected, command not sent')
  const commandId = randomUUID()
  const deadline = new Date(Date.now() + (cmd.deadlineS ?? 60) * 1000).toISOString()
  await d.ingest.createCommand({ id: commandId, clusterId, kind: cmd.kind, deadline })
  const body: UnaddressedCommandBody =
    cmd.kind === 'test' && cmd.test
      ? { commandId, kind: 'test', deadline, test: cmd.test }
      : { commandId, kind: cmd.kind as CommandKind, deadline }
  await d.fanout.sendNow(body, [clusterId])
  return { commandId, deadline }
}
