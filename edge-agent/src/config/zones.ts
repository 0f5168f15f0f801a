import { Type } from '@sinclair/typebox'

/**
 * One amplifier zone of a box (a speaker line behind its own switch): the driver and GPIO line that switch it and how
 * its volume is set. Checked by the config loader; the drivers are in hardware/zones.ts.
 */
export interface ZoneConfig {
  id: string
  label?: string
  /** Config key (a contract): the zone's amplifier switch. */
  relay: { driver: 'simulated' | 'gpiod' | 'sysfs'; chip?: string; line?: number; activeLow?: boolean }
  /** `control`: an amixer simple control of `card` (a card name); without one, ffmpeg applies the gain. */
  volume?: { card?: string; control?: string; percent?: number }
}

export const Zone = Type.Object(
  {
    id: Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,31}$' }),
    label: Type.Optional(Type.String({ minLength: 1, maxLength: 80 })),
    // Config key (a contract): the zone's amplifier switch.
    relay: Type.Object(
      {
        driver: Type.Union([Type.Literal('simulated'), Type.Literal('gpiod'), Type.Literal('sysfs')]),
        chip: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
        line: Type.Optional(Type.Integer({ minimum: 0, maximum: 4095 })),
        activeLow: Type.Optional(Type.Boolean()),
      },
      { additionalProperties: false },
    ),
    volume: Type.Optional(
      Type.Object(
        {
          card: Type.Optional(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_-]{0,31}$' })),
          control: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
          percent: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
)

/** Unique ids; a GPIO driver needs its chip and line. */
export function zonesValid(zones: ZoneConfig[]): boolean {
  const ids = new Set(zones.map((z) => z.id))
  return (
    zones.length > 0 &&
    ids.size === zones.length &&
    zones.every(
      (z) => z.relay.driver === 'simulated' || (z.relay.chip !== undefined && z.relay.line !== undefined),
    )
  )
}
