import { chmodSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { waitFor } from '@loa/testkit'
import { describe, expect, it } from 'vitest'
import { TEST_KEY } from '../../test-kit/messages.js'
import { silentLog, tmp, tone } from '../../test-kit/test-helpers.js'
import { loadConfig } from '../config/config.js'
import { Outbox } from '../link/outbox.js'
import { openDb } from '../storage/db.js'
import { AudioCardWatch, cardOfDevice, outputUsesCardIndex, parseAsoundCards } from './audio-cards.js'
import { parseOutput } from './audio-output.js'
import { AmixerVolume } from './mixer.js'
import { Player } from './player.js'

// Sound cards are the hardware edge: the card list is a fixture file shaped like /proc/asound/cards, amixer a
// fake on PATH; ffmpeg is real (the gain path writes to a file, a missing card fails the real ALSA open).

const PI4_CARDS = ` 0 [Headphones     ]: bcm2835_headpho - bcm2835 Headphones
                      bcm2835 Headphones
 1 [vc4hdmi0       ]: vc4-hdmi - vc4-hdmi-0
                      vc4-hdmi-0
 2 [Device         ]: USB-Audio - USB Audio Device
                      GeneralPlus USB Audio Device at usb-0000:01:00.0-1.3, full speed
`

function events(dir: string) {
  const db = openDb(join(dir, 'agent.db'))
  return {
    db,
    outbox: new Outbox(db),
    kinds: () =>
      (db.prepare("SELECT body FROM outbox WHERE channel = 'event'").all() as { body: string }[]).map(
        (r) => JSON.parse(r.body).kind as string,
      ),
  }
}

/** Peak of a 16-bit PCM WAV written by ffmpeg. */
function peak(file: string): number {
  const b = readFileSync(file)
  const at = b.indexOf('data') + 8
  let max = 0
  for (let i = at; i + 1 < b.length; i += 2) max = Math.max(max, Math.abs(b.readInt16LE(i)))
  return max
}

describe('ALSA cards by name', () => {
  it('parses /proc/asound/cards', () => {
    expect(parseAsoundCards(PI4_CARDS)).toEqual([
      { index: 0, id: 'Headphones', driver: 'bcm2835_headpho', name: 'bcm2835 Headphones' },
      { index: 1, id: 'vc4hdmi0', driver: 'vc4-hdmi', name: 'vc4-hdmi-0' },
      { index: 2, id: 'Device', driver: 'USB-Audio', name: 'USB Audio Device' },
    ])
  })

  it('finds the card of a device string, and refuses an index in the config', () => {
    expect(cardOfDevice('plughw:CARD=Headphones,DEV=0')).toEqual({ card: 'Headphones', byIndex: false })
    expect(cardOfDevice('hw:Device,0')).toEqual({ card: 'Device', byIndex: false })
    expect(cardOfDevice('default')).toEqual({ card: null, byIndex: false })
    expect(outputUsesCardIndex('alsa:hw:0')).toBe(true)
    expect(outputUsesCardIndex('alsa:plughw:CARD=1,DEV=0')).toBe(true)
    expect(outputUsesCardIndex('alsa:plughw:1,0')).toBe(true)
    expect(outputUsesCardIndex('alsa:sysdefault:CARD=Headphones')).toBe(false)
    expect(() => loadConfig([], { LOA_DEVICE_ID: 'pi-1', LOA_OUTPUT: 'alsa:hw:1,0' })).toThrow(
      'never an index',
    )
    expect(
      loadConfig([], {
        LOA_DEVICE_ID: 'pi-1',
        LOA_OUTPUT: 'alsa:plughw:CARD=Device,DEV=0',
        LOA_CONTROL_PLANE_KEY_ID: TEST_KEY.keyId,
        LOA_CONTROL_PLANE_PUBLIC_KEY: TEST_KEY.publicKey,
      }).output,
    ).toBe('alsa:plughw:CARD=Device,DEV=0')
  })

  it('a missing card is one event, checked again with backoff, and reported back when it appears', async () => {
    const dir = tmp('loa-audio-')
    const cards = join(dir, 'cards')
    writeFileSync(cards, PI4_CARDS.split('\n').slice(0, 4).join('\n'))
    const { db, outbox, kinds } = events(dir)
    const w = new AudioCardWatch({
      output: 'alsa:plughw:CARD=Device,DEV=0',
      cardsFile: cards,
      outbox,
      log: silentLog,
      minMs: 50,
    })
    w.start()
    try {
      expect(w.present()).toBe(false)
      await new Promise((r) => setTimeout(r, 300)) // several re-checks: still one event
      expect(kinds()).toEqual(['audio-card-missing'])
      writeFileSync(cards, PI4_CARDS) // the USB card is plugged back
      await waitFor(() => kinds().length === 2, 5000, 'found')
      expect(kinds()).toEqual(['audio-card-missing', 'audio-card-found'])
    } finally {
      w.stop()
      db.close()
    }
  })
})

describe('Player and the card', () => {
  it('applies the zone gain in ffmpeg (file output: half the gain, half the peak)', async () => {
    const dir = tmp('loa-audio-')
    const t = tone(dir, 0.5)
    const full = await new Player(parseOutput(`file:${dir}`)).play(t.path, 1, 'full')
    const half = await new Player(parseOutput(`file:${dir}`), 'ffmpeg', { gain: () => 0.5 }).play(
      t.path,
      1,
      'half',
    )
    expect([full.outcome, half.outcome]).toEqual(['ok', 'ok'])
    const ratio = peak(join(dir, 'half.wav')) / peak(join(dir, 'full.wav'))
    expect(ratio).toBeGreaterThan(0.45)
    expect(ratio).toBeLessThan(0.55)
  })

  it('a missing card (real ffmpeg, real ALSA open) is retried with backoff and reported, never thrown', async () => {
    const dir = tmp('loa-audio-')
    const t = tone(dir, 0.3)
    const faults: [string, boolean][] = []
    const p = new Player(parseOutput('alsa:plughw:CARD=NoSuchCard,DEV=0'), 'ffmpeg', {
      retryMs: [50, 100],
      onCardFault: (kind, _e, retrying) => faults.push([kind, retrying]),
    })
    const r = await p.play(t.path, 1, 'x')
    expect(r.outcome).toBe('failed')
    expect(r.error).toMatch(/cannot open audio device/)
    expect(faults).toEqual([
      ['missing', true],
      ['missing', true],
      ['missing', false],
    ])
  })
})

describe('amixer volume (fake amixer on PATH)', () => {
  it('sets the control by card name on the perceptual scale; a failure is LOA_AUDIO_CARD', async () => {
    const dir = tmp('loa-audio-')
    const log = join(dir, 'amixer.log')
    writeFileSync(
      join(dir, 'amixer'),
      `#!/bin/sh\necho "$*" >> ${log}\ncase "$*" in *CARD=Gone*) echo "amixer: Mixer attach hw:CARD=Gone error: No such file or directory" >&2; exit 1;; esac\n`,
    )
    chmodSync(join(dir, 'amixer'), 0o755)
    const v = new AmixerVolume(join(dir, 'amixer'))
    const zone = {
      id: 'cho',
      relay: { driver: 'simulated' as const },
      volume: { card: 'Device', control: 'Speaker' },
    }
    expect(await v.apply(zone, 65)).toBe(true)
    expect(readFileSync(log, 'utf8').trim()).toBe('-q -M -D hw:CARD=Device sset Speaker 65%')
    expect(await v.apply({ id: 'x', relay: { driver: 'simulated' } }, 10)).toBe(false)
    await expect(v.apply({ ...zone, volume: { card: 'Gone', control: 'PCM' } }, 10)).rejects.toMatchObject({
      code: 'LOA_AUDIO_CARD',
    })
  })
})
