import { type Static, Type } from '@sinclair/typebox'
import { EntityId, IsoUtc, Sha256Hex } from '../common.js'
import { envelope } from '../envelope.js'

export const NowPlaying = Type.Object({
  scheduleId: Type.Union([EntityId, Type.Null()]),
  title: Type.String({ maxLength: 200 }),
  sha256: Sha256Hex,
  startedAt: IsoUtc,
  fallback: Type.Boolean(),
})
export type NowPlaying = Static<typeof NowPlaying>

/** The cluster's 4G modem (edge-agent/src/hardware/modem/modem.ts): absent when it has none or it did not answer. */
export const ModemTelemetry = Type.Object({
  /** From AT+CSQ: −113 … −51 dBm; null when the modem does not know (99). */
  signalDbm: Type.Union([Type.Number({ minimum: -150, maximum: 0 }), Type.Null()]),
  registration: Type.Union([
    Type.Union(
      ['home', 'roaming', 'searching', 'denied', 'not-registered', 'unknown'].map((r) => Type.Literal(r)),
    ),
    Type.Null(),
  ]),
  operator: Type.Optional(Type.String({ maxLength: 64 })),
  /** `gsm`, `umts`, `lte`, … from AT+COPS?. */
  accessTech: Type.Optional(Type.Union([Type.String({ maxLength: 16 }), Type.Null()])),
  /** SIM ICCID (18–22 digits). */
  iccid: Type.Optional(Type.String({ pattern: '^\\d{18,22}$' })),
})
export type ModemTelemetry = Static<typeof ModemTelemetry>

/** GNSS position (the modem's GPS: AT+QGPSLOC or NMEA). */
export const PositionTelemetry = Type.Object({
  lat: Type.Number({ minimum: -90, maximum: 90 }),
  lon: Type.Number({ minimum: -180, maximum: 180 }),
  altM: Type.Optional(Type.Number()),
  /** The fix's time, when the source gives a date. */
  at: Type.Optional(IsoUtc),
  satellites: Type.Optional(Type.Integer({ minimum: 0, maximum: 255 })),
})
export type PositionTelemetry = Static<typeof PositionTelemetry>

/** The box's own health; every field is left out when it cannot be read on this box. */
export const HealthTelemetry = Type.Object({
  cpuTempC: Type.Optional(Type.Number({ minimum: -60, maximum: 200 })),
  /** `vcgencmd get_throttled` (Raspberry Pi): the raw bit field and what it means now and since boot. */
  throttled: Type.Optional(
    Type.Object({
      raw: Type.String({ pattern: '^0x[0-9a-fA-F]+$' }),
      underVoltageNow: Type.Boolean(),
      throttledNow: Type.Boolean(),
      underVoltageSinceBoot: Type.Boolean(),
      throttledSinceBoot: Type.Boolean(),
    }),
  ),
  load5: Type.Optional(Type.Number({ minimum: 0 })),
  load15: Type.Optional(Type.Number({ minimum: 0 })),
  memAvailableBytes: Type.Optional(Type.Integer({ minimum: 0 })),
  /** The system clock is synchronised (systemd-timesyncd / NTP). */
  clockSynced: Type.Optional(Type.Boolean()),
  /** Interfaces that are up, with their addresses (no loopback). */
  net: Type.Optional(
    Type.Array(
      Type.Object({
        iface: Type.String({ maxLength: 32 }),
        address: Type.String({ maxLength: 64 }),
        family: Type.String({ maxLength: 8 }),
      }),
      { maxItems: 16 },
    ),
  ),
})
export type HealthTelemetry = Static<typeof HealthTelemetry>

/**
 * The box's clock (edge-agent/src/clock/clock.ts, docs/edge-agent.md "Time"). `state`: `synced` (NTP says so), `unsynced`
 * (NTP has not synchronised it yet: it may be hours off either way), `unknown` (the box cannot tell; trusted),
 * `trusted` (configured so, e.g. a battery-backed RTC), `behind-signed-time` (the local clock is earlier than a
 * time the control plane signed: the box runs on that floor, advanced by monotonic time, instead).
 */
export const ClockTelemetry = Type.Object({
  state: Type.Union(
    ['synced', 'unsynced', 'unknown', 'trusted', 'behind-signed-time'].map((s) => Type.Literal(s)),
  ),
  /**
   * Local wall clock minus the floor (the newest signed or NTP-confirmed time, advanced by monotonic time since);
   * negative: the local clock is behind a vouched-for time. Null before any such time is known.
   */
  offsetFromSignedMs: Type.Union([Type.Number(), Type.Null()]),
  /** The newest jump of the local clock (wall time after it) and its size (negative: stepped back). */
  lastJumpAt: Type.Union([IsoUtc, Type.Null()]),
  lastJumpMs: Type.Union([Type.Number(), Type.Null()]),
  /** Jumps seen since the agent started. */
  jumps: Type.Integer({ minimum: 0 }),
})
export type ClockTelemetry = Static<typeof ClockTelemetry>

/** Heartbeat, every `telemetryIntervalS`; also what the control plane's heartbeat timeout watches. */
export const TelemetryBody = Type.Object({
  at: IsoUtc,
  uptimeS: Type.Number({ minimum: 0 }),
  agentVersion: Type.String({ maxLength: 64 }),
  cpuLoad1: Type.Number({ minimum: 0 }),
  cpuCount: Type.Integer({ minimum: 1 }),
  memTotalBytes: Type.Integer({ minimum: 0 }),
  memFreeBytes: Type.Integer({ minimum: 0 }),
  diskTotalBytes: Type.Integer({ minimum: 0 }),
  diskFreeBytes: Type.Integer({ minimum: 0 }),
  relayOn: Type.Boolean(),
  nowPlaying: Type.Union([NowPlaying, Type.Null()]),
  outboxPending: Type.Integer({ minimum: 0 }),
  modem: Type.Optional(ModemTelemetry),
  position: Type.Optional(PositionTelemetry),
  health: Type.Optional(HealthTelemetry),
  clock: Type.Optional(ClockTelemetry),
})
export type TelemetryBody = Static<typeof TelemetryBody>

export const TelemetryMessage = envelope('telemetry', TelemetryBody)
export type TelemetryMessage = Static<typeof TelemetryMessage>
