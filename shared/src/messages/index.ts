import type { Static, TSchema } from '@sinclair/typebox'
import type { DeviceChannel } from '../topics.js'
import { CommandMessage } from './command.js'
import { CommandAckMessage } from './command-ack.js'
import { DESIRED_LIMITS } from './desired-limits.js'
import { DesiredStateMessage } from './desired-state.js'
import { DeviceEventMessage } from './device-event.js'
import { PlayReportMessage } from './play-report.js'
import { PresenceMessage } from './presence.js'
import { ReceiptMessage } from './receipt.js'
import { ReportedStateMessage } from './reported-state.js'
import { TelemetryMessage } from './telemetry.js'

export * from './alert.js'
export * from './command.js'
export * from './command-ack.js'
export * from './desired-limits.js'
export * from './desired-state.js'
export * from './device-event.js'
export * from './live.js'
export * from './play-report.js'
export * from './presence.js'
export * from './receipt.js'
export * from './recipients.js'
export * from './reported-state.js'
export * from './telemetry.js'

/** One schema per channel, and the largest payload each may carry. */
export const CHANNEL_MESSAGES = {
  desired: { type: 'desired-state', schema: DesiredStateMessage, maxBytes: DESIRED_LIMITS.maxBytes },
  cmd: { type: 'command', schema: CommandMessage, maxBytes: 64 * 1024 },
  receipt: { type: 'receipt', schema: ReceiptMessage, maxBytes: 128 * 1024 },
  ack: { type: 'command-ack', schema: CommandAckMessage, maxBytes: 16 * 1024 },
  reported: { type: 'reported-state', schema: ReportedStateMessage, maxBytes: 2 * 1024 * 1024 },
  telemetry: { type: 'telemetry', schema: TelemetryMessage, maxBytes: 32 * 1024 },
  event: { type: 'event', schema: DeviceEventMessage, maxBytes: 32 * 1024 },
  play: { type: 'play', schema: PlayReportMessage, maxBytes: 16 * 1024 },
  presence: { type: 'presence', schema: PresenceMessage, maxBytes: 4 * 1024 },
} as const satisfies Record<DeviceChannel, { type: string; schema: TSchema; maxBytes: number }>

export type ChannelMessages = typeof CHANNEL_MESSAGES
export type MessageFor<C extends DeviceChannel> = Static<ChannelMessages[C]['schema']>
export type BodyFor<C extends DeviceChannel> = MessageFor<C>['body']
