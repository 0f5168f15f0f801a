import type { Logger } from 'pino'
import type { Clock } from './clock/clock.js'
import type { AgentConfig } from './config/config.js'
import { Modem } from './hardware/modem/modem.js'
import { Zones } from './hardware/zones.js'
import type { Outbox } from './link/outbox.js'
import { AudioCardWatch } from './playback/audio-cards.js'
import { type AudioOutput, parseOutput } from './playback/audio-output.js'
import { AmixerVolume } from './playback/mixer.js'
import { Player } from './playback/player.js'
import type { Db } from './storage/db.js'

/** The box's hardware as the agent uses it: zones and amplifiers, the sound card, the 4G modem, the audio output. */
export interface AgentHardware {
  /** The box's hardware, zone by zone (BoxControls for the technician's page). */
  box: Zones
  /** The output's sound card: missing or busy is reported and retried. */
  card: AudioCardWatch
  /** The 4G modem, when `modem.port` is configured. */
  modem: Modem | null
  output: AudioOutput
  /** A new player on the output, with the zones' gain and the card's fault reports. */
  player: () => Player
}

/** Builds the hardware parts from the config (none of them touches the hardware before its `start`). */
export function agentHardware(
  config: AgentConfig,
  o: { db: Db; outbox: Outbox; log: Logger; clock: Clock },
): AgentHardware {
  const box = new Zones({
    db: o.db,
    outbox: o.outbox,
    log: o.log.child({ c: 'box' }),
    zones: config.zones ?? [{ id: 'main', label: 'main', relay: { driver: config.relay.driver } }],
    sysfsRoot: config.gpio?.sysfsRoot ?? '/sys/class/gpio',
    volume: new AmixerVolume(),
  })
  const card = new AudioCardWatch({
    output: config.output,
    cardsFile: config.audio?.cardsFile ?? '/proc/asound/cards',
    outbox: o.outbox,
    log: o.log.child({ c: 'audio' }),
  })
  const cardOptions = {
    gain: () => box.gain(),
    onCardFault: (kind: 'busy' | 'missing', error: string, retrying: boolean) =>
      card.playFault(kind, error, retrying),
  }
  const output = parseOutput(config.output)
  const m = config.modem
  const modem = m?.port
    ? new Modem({
        port: m.port,
        baudRate: m.baudRate,
        gps: m.gps,
        gpsPort: m.gpsPort,
        outbox: o.outbox,
        log: o.log.child({ c: 'modem' }),
        pollMs: config.telemetryIntervalS * 1000,
      })
    : null
  return { box, card, modem, output, player: () => new Player(output, 'ffmpeg', cardOptions, o.clock) }
}
