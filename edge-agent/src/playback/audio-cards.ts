import { readFileSync } from 'node:fs'
import type { Logger } from 'pino'
import { monotonicMs } from '../clock/clock.js'
import type { Outbox } from '../link/outbox.js'

/** One line pair of /proc/asound/cards: ` 0 [Headphones     ]: bcm2835_headpho - bcm2835 Headphones`. */
export interface AlsaCard {
  index: number
  /** The card's id: the name ALSA devices use (`plughw:CARD=Headphones`). */
  id: string
  driver: string
  name: string
}

export function parseAsoundCards(text: string): AlsaCard[] {
  const out: AlsaCard[] = []
  for (const line of text.split('\n')) {
    const m = /^\s*(\d+)\s+\[(\S+)\s*\]:\s*(\S+)\s+-\s+(.*)$/.exec(line)
    if (m)
      out.push({
        index: Number(m[1]),
        id: m[2] as string,
        driver: m[3] as string,
        name: (m[4] as string).trim(),
      })
  }
  return out
}

/**
 * The card an ALSA device string names: `plughw:CARD=Headphones,DEV=0` and `hw:Headphones,0` → `Headphones`;
 * `default` → null (whatever the system default is). A number (`hw:0`, `CARD=1`) is an index: refused by the
 * config, since indexes change when a USB sound card comes or goes.
 */
export function cardOfDevice(device: string): { card: string | null; byIndex: boolean } {
  const named = /(?:^|[:,])CARD=([^,]+)/.exec(device)
  const plain = /^[a-z_]+:([^,=]+)(?:,|$)/.exec(device)
  const card = named?.[1] ?? plain?.[1] ?? null
  return { card, byIndex: card !== null && /^\d+$/.test(card) }
}

/** The agent's `output` setting addresses an ALSA card by index (refused). */
export function outputUsesCardIndex(output: string): boolean {
  return output.startsWith('alsa:') && cardOfDevice(output.slice('alsa:'.length)).byIndex
}

const MIN_MS = 5_000
const MAX_MS = 300_000

/**
 * Watches that the output's sound card is present (by name, in /proc/asound/cards). Missing: one
 * `audio-card-missing` event (error) per outage, checked again with backoff (5 s → 5 min); back:
 * `audio-card-found`. Plays meanwhile fail and are reported as usual; nothing crashes.
 */
export class AudioCardWatch {
  private timer: NodeJS.Timeout | null = null
  private missing = false
  private delay = MIN_MS
  private lastFaultAt = Number.NEGATIVE_INFINITY

  constructor(
    private readonly o: { output: string; cardsFile: string; outbox: Outbox; log: Logger; minMs?: number },
  ) {}

  /** The card this output needs, or null (not ALSA, or the system default). */
  get card(): string | null {
    return this.o.output.startsWith('alsa:') ? cardOfDevice(this.o.output.slice('alsa:'.length)).card : null
  }

  present(): boolean {
    const card = this.card
    if (!card) return true
    try {
      return parseAsoundCards(readFileSync(this.o.cardsFile, 'utf8')).some((c) => c.id === card)
    } catch {
      return false
    }
  }

  start(): void {
    if (this.card) this.check()
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
  }

  /** A play found the card busy or missing (Player's onCardFault): an event at most once a minute. */
  playFault(kind: 'busy' | 'missing', error: string, retrying: boolean): void {
    this.o.log.warn({ kind, error, retrying }, 'sound card fault')
    if (monotonicMs() - this.lastFaultAt < 60_000) return
    this.lastFaultAt = monotonicMs()
    this.o.outbox.event(`audio-card-${kind}`, 'error', `sound card ${kind}: ${error}`.slice(0, 500), {
      card: this.card,
      output: this.o.output,
      retrying,
    })
    if (kind === 'missing') this.missing = true
  }

  private check(): void {
    const card = this.card as string
    if (this.present()) {
      if (this.missing) {
        this.o.outbox.event('audio-card-found', 'info', `sound card ${card} is back`, { card })
        this.o.log.info({ card }, 'sound card back')
      }
      this.missing = false
      this.delay = this.o.minMs ?? MIN_MS
      // Keep watching, slowly: a USB card can be unplugged at any time.
      this.timer = setTimeout(() => this.check(), MAX_MS)
      return
    }
    if (!this.missing) {
      this.missing = true
      this.delay = this.o.minMs ?? MIN_MS
      this.o.outbox.event(
        'audio-card-missing',
        'error',
        `sound card ${card} not found in ${this.o.cardsFile}`,
        {
          card,
          output: this.o.output,
        },
      )
      this.o.log.error({ card }, 'sound card missing')
    }
    this.timer = setTimeout(() => this.check(), this.delay)
    this.delay = Math.min(MAX_MS, this.delay * 2)
  }
}
