import { chmodSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { TelemetryBody } from '@loa/shared'
import { Value } from '@sinclair/typebox/value'
import { describe, expect, it } from 'vitest'
import { tmp } from '../../test-kit/test-helpers.js'
import { parseThrottled, readHealth } from './health.js'

describe('health telemetry', () => {
  it('parses get_throttled bits', () => {
    expect(parseThrottled('throttled=0x50005\n')).toEqual({
      raw: '0x50005',
      underVoltageNow: true,
      throttledNow: true,
      underVoltageSinceBoot: true,
      throttledSinceBoot: true,
    })
    expect(parseThrottled('throttled=0x0')?.underVoltageNow).toBe(false)
    expect(parseThrottled('error=1')).toBeUndefined()
  })

  it('reads fixture files and a fake vcgencmd; the result fits the telemetry schema', async () => {
    const d = tmp('loa-health-')
    writeFileSync(join(d, 'temp'), '52612\n')
    writeFileSync(
      join(d, 'meminfo'),
      'MemTotal:  3884000 kB\nMemFree:  100 kB\nMemAvailable:    2000000 kB\n',
    )
    writeFileSync(join(d, 'synchronized'), '')
    mkdirSync(join(d, 'bin'))
    const vc = join(d, 'bin', 'vcgencmd')
    writeFileSync(vc, '#!/bin/sh\n[ "$1" = get_throttled ] && echo throttled=0x50000\n')
    chmodSync(vc, 0o755)
    const h = await readHealth({
      thermalFile: join(d, 'temp'),
      meminfoFile: join(d, 'meminfo'),
      timesyncFile: join(d, 'synchronized'),
      timedatectl: null,
      vcgencmd: vc,
    })
    expect(h).toMatchObject({
      cpuTempC: 52.6,
      memAvailableBytes: 2_048_000_000,
      clockSynced: true,
      throttled: { raw: '0x50000', underVoltageNow: false, underVoltageSinceBoot: true },
    })
    const body = {
      at: new Date().toISOString(),
      uptimeS: 1,
      agentVersion: '0.1.0',
      cpuLoad1: 0,
      cpuCount: 1,
      memTotalBytes: 1,
      memFreeBytes: 1,
      diskTotalBytes: 1,
      diskFreeBytes: 1,
      relayOn: false,
      nowPlaying: null,
      outboxPending: 0,
      health: h,
      modem: {
        signalDbm: -79,
        registration: 'home',
        operator: 'Viettel',
        accessTech: 'lte',
        iccid: '8984048000123456789',
      },
      position: { lat: 21.02851, lon: 105.85422, at: '2026-11-27T03:15:23Z' },
    }
    expect([...Value.Errors(TelemetryBody, body)].map((e) => e.path)).toEqual([])
  })

  it('leaves out what this box cannot read', async () => {
    const d = tmp('loa-health-')
    const h = await readHealth({
      thermalFile: join(d, 'none'),
      meminfoFile: join(d, 'none'),
      timesyncFile: join(d, 'none'),
      timedatectl: null,
      vcgencmd: join(d, 'no-vcgencmd'),
    })
    expect(h.cpuTempC).toBeUndefined()
    expect(h.throttled).toBeUndefined()
    expect(h.clockSynced).toBeUndefined()
    expect(h.memAvailableBytes).toBeUndefined()
    expect(typeof h.load5).toBe('number')
  })
})
