import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { waitFor } from '@loa/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import { fakeGpiod, fakeSysfs, gpiosetCalls } from '../../test-kit/gpio-fakes.js'
import { silentLog, tmp } from '../../test-kit/test-helpers.js'
import type { ZoneConfig } from '../config/config.js'
import { Outbox } from '../link/outbox.js'
import { type Db, kvGet, openDb } from '../storage/db.js'
import { GpiodAmpSwitch } from './amp-switch-gpiod.js'
import { Zones } from './zones.js'

// The zone layer with real drivers at the fake hardware edge (a sysfs-shaped tree; fake gpioset on PATH) and a
// real SQLite file: intent is recorded before switching, and a start after an unclean exit switches off and says so.

const cleanup: (() => void)[] = []
afterEach(() => {
  for (const c of cleanup.splice(0)) c()
})

const ZONES: ZoneConfig[] = [
  { id: 'cho', label: 'Chợ', relay: { driver: 'sysfs', chip: 'pinctrl-bcm2711', line: 17 } },
  {
    id: 'truong-hoc',
    label: 'Trường học',
    relay: { driver: 'sysfs', chip: 'pinctrl-bcm2711', line: 27, activeLow: true },
  },
]

function events(db: Db): { kind: string; data?: { zone?: string } }[] {
  return (
    db.prepare("SELECT body FROM outbox WHERE channel = 'event' ORDER BY seq").all() as { body: string }[]
  ).map((r) => JSON.parse(r.body))
}

function open(
  dir: string,
  zones = ZONES,
  more: Pick<ConstructorParameters<typeof Zones>[0], 'driverFor' | 'volume'> = {},
) {
  const db = openDb(join(dir, 'agent.db'))
  const outbox = new Outbox(db)
  const z = new Zones({ db, outbox, log: silentLog, zones, sysfsRoot: join(dir, 'gpio'), ...more })
  cleanup.push(() => {
    z.offSync()
    db.close()
  })
  return { db, z }
}

describe('Zones', () => {
  it('switches every zone for the scheduler, zone by zone for the technician, and records intent', async () => {
    const dir = tmp()
    cleanup.push(fakeSysfs(join(dir, 'gpio')))
    const value = (n: number) => readFileSync(join(dir, 'gpio', `gpio${n}`, 'value'), 'utf8').trim()
    const { db, z } = open(dir)
    await z.start()
    expect([value(529), value(539)]).toEqual(['0', '1'])
    await z.set(true)
    expect([value(529), value(539)]).toEqual(['1', '0'])
    expect(z.isOn()).toBe(true)
    await z.setAmpSwitch('cho', false)
    expect(z.zones().map((x) => [x.id, x.label, x.relayOn])).toEqual([
      ['cho', 'Chợ', false],
      ['truong-hoc', 'Trường học', true],
    ])
    expect(kvGet(db, 'relay.cho')).toBe('0')
    expect(kvGet(db, 'relay.truong-hoc')).toBe('1')
    await expect(z.setAmpSwitch('nope', true)).rejects.toMatchObject({ code: 'LOA_AGENT_ZONE_UNKNOWN' })
    await z.set(false)
    expect(z.isOn()).toBe(false)
    const log = db.prepare('SELECT "on" FROM relay_log ORDER BY seq').all() as { on: number }[]
    expect(log.map((r) => r.on)).toEqual([1, 0])
  })

  it('a start after an unclean exit (kill -9 with a zone on) switches it off and reports it', async () => {
    const dir = tmp()
    cleanup.push(fakeSysfs(join(dir, 'gpio')))
    const first = open(dir)
    await first.z.start()
    await first.z.setAmpSwitch('truong-hoc', true)
    expect(readFileSync(join(dir, 'gpio', 'gpio539', 'value'), 'utf8').trim()).toBe('0')
    // kill -9: no exit path runs (no offSync), the sysfs line stays on.
    cleanup.length = 1
    first.db.close()
    const second = open(dir)
    await second.z.start()
    expect(readFileSync(join(dir, 'gpio', 'gpio539', 'value'), 'utf8').trim()).toBe('1')
    expect(
      events(second.db)
        .filter((e) => e.kind === 'relay-left-on')
        .map((e) => e.data?.zone),
    ).toEqual(['truong-hoc'])
  })

  it('a failing line is a fault event, not a crash of the scheduler; the other zones still switch', async () => {
    const dir = tmp()
    const bin = join(dir, 'bin')
    const logFile = join(dir, 'gpioset.log')
    const env = fakeGpiod(bin, '1.6.3', logFile, ['5'])
    const zones: ZoneConfig[] = [
      { id: 'a', relay: { driver: 'gpiod', chip: 'pinctrl-bcm2711', line: 4 } },
      { id: 'b', relay: { driver: 'gpiod', chip: 'gpiochip0', line: 5 } },
    ]
    const { db, z } = open(dir, zones, {
      driverFor: (c, onLost) =>
        new GpiodAmpSwitch({
          chip: c.relay.chip ?? '',
          line: c.relay.line ?? 0,
          activeLow: false,
          env,
          onLost,
        }),
    })
    await z.set(true)
    expect(z.zones().map((x) => x.relayOn)).toEqual([true, false])
    expect(events(db).map((e) => [e.kind, e.data?.zone])).toEqual([['relay-fault', 'b']])
    // A holder killed from outside: reported, and the intended state driven again.
    const holder = gpiosetCalls(logFile).find((c) => c.args.endsWith('4=1'))?.pid as number
    process.kill(holder, 'SIGKILL')
    await waitFor(() => gpiosetCalls(logFile).filter((c) => c.args.endsWith('4=1')).length === 2)
    await waitFor(() => z.zones()[0]?.relayOn === true)
    expect(events(db).map((e) => e.kind)).toEqual(['relay-fault', 'relay-fault'])
  })

  it('volume: kept per zone, ffmpeg gain from the first zone unless it has a mixer control', async () => {
    const dir = tmp()
    const zones: ZoneConfig[] = [
      { id: 'main', relay: { driver: 'simulated' }, volume: { percent: 80 } },
      { id: 'b', relay: { driver: 'simulated' }, volume: { card: 'Headphones', control: 'PCM' } },
    ]
    const applied: string[] = []
    const { z } = open(dir, zones, {
      volume: {
        apply: async (c, p) => {
          applied.push(`${c.id}=${p}`)
          return c.volume?.control !== undefined
        },
      },
    })
    expect(z.gain()).toBe(0.8)
    await z.setVolume('main', 55.4)
    await z.setVolume('b', 130)
    expect(applied).toEqual(['main=55', 'b=100'])
    expect(z.zones().map((x) => x.volumePercent)).toEqual([55, 100])
    expect(z.gain()).toBe(0.55)
  })
})
