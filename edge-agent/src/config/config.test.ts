import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { TEST_KEY } from '../../test-kit/messages.js'
import { tmp } from '../../test-kit/test-helpers.js'
import { loadConfig } from './config.js'

const KEY = { LOA_CONTROL_PLANE_KEY_ID: TEST_KEY.keyId, LOA_CONTROL_PLANE_PUBLIC_KEY: TEST_KEY.publicKey }

describe('loadConfig', () => {
  it('applies defaults, then the file, then env overrides', () => {
    const file = join(tmp(), 'agent.json')
    writeFileSync(
      file,
      JSON.stringify({ deviceId: 'pi-1', prerollMs: 800, mqtt: { url: 'mqtt://broker:1883' } }),
    )
    const c = loadConfig(['--config', file], {
      ...KEY,
      LOA_PREROLL_MS: '250',
      LOA_OUTPUT: 'alsa:plughw:CARD=Headphones,DEV=0',
    })
    expect(c).toMatchObject({
      deviceId: 'pi-1',
      mqtt: { url: 'mqtt://broker:1883' },
      prerollMs: 250,
      postrollMs: 1000,
      output: 'alsa:plughw:CARD=Headphones,DEV=0',
      topicRoot: 'loa',
      timezone: 'Asia/Ho_Chi_Minh',
      cacheBudgetMb: 2048,
      relay: { driver: 'simulated' },
      controlPlaneKey: TEST_KEY,
      insecureAcceptUnsigned: false,
    })
  })

  it('requires the pinned control-plane key unless the insecure development flag is set', () => {
    expect(() => loadConfig([], { LOA_DEVICE_ID: 'pi-1' })).toThrow('controlPlaneKey')
    expect(() => loadConfig([], { LOA_DEVICE_ID: 'pi-1', LOA_CONTROL_PLANE_KEY_ID: TEST_KEY.keyId })).toThrow(
      'keyId and publicKey are required',
    )
    const wrongId = { ...KEY, LOA_CONTROL_PLANE_KEY_ID: '0123456789abcdef' }
    expect(() => loadConfig([], { LOA_DEVICE_ID: 'pi-1', ...wrongId })).toThrow(
      'keyId does not match publicKey',
    )
    expect(loadConfig([], { LOA_DEVICE_ID: 'pi-1', LOA_INSECURE_ACCEPT_UNSIGNED: 'true' })).toMatchObject({
      insecureAcceptUnsigned: true,
    })
    const c = loadConfig([], { LOA_DEVICE_ID: 'pi-1', ...KEY, LOA_TLS_CA_FILE: '/etc/loa/ca.crt' })
    expect(c.controlPlaneKey).toEqual(TEST_KEY)
    expect(c.tls).toEqual({ caFile: '/etc/loa/ca.crt' })
  })

  it('names the field and the env variable it came from', () => {
    expect(() => loadConfig([], { LOA_DEVICE_ID: 'pi-1', LOA_MQTT_URL: 'http://x' })).toThrow(
      'mqtt.url (from LOA_MQTT_URL): must be a mqtt:// or mqtts:// URL',
    )
    expect(() => loadConfig([], { LOA_DEVICE_ID: 'pi-1', LOA_PREROLL_MS: 'soon' })).toThrow(
      'prerollMs (from LOA_PREROLL_MS)',
    )
    expect(() => loadConfig([], { LOA_DEVICE_ID: 'pi-1', LOA_TIMEZONE: 'Mars/Base' })).toThrow(
      'timezone (from LOA_TIMEZONE): must be an IANA time zone',
    )
  })

  it('names the config file as the source, and requires deviceId', () => {
    const file = join(tmp(), 'agent.json')
    writeFileSync(file, JSON.stringify({ deviceId: 'bad/id' }))
    expect(() => loadConfig([], { LOA_CONFIG: file })).toThrow(`deviceId (from ${file})`)
    expect(() => loadConfig([], {})).toThrow('deviceId (from LOA_DEVICE_ID or the config file): is required')
    writeFileSync(file, JSON.stringify({ deviceId: 'pi-1', output: 'speaker' }))
    expect(() => loadConfig(['--config', file], {})).toThrow(`output (from ${file})`)
  })

  it('zones: one simulated zone by default; a list from the file or LOA_ZONES (JSON), checked', () => {
    expect(loadConfig([], { LOA_DEVICE_ID: 'pi-1', ...KEY }).zones).toEqual([
      { id: 'main', label: 'main', relay: { driver: 'simulated' } },
    ])
    const zones = [
      { id: 'cho', label: 'Chợ', relay: { driver: 'gpiod', chip: 'pinctrl-rp1', line: 17, activeLow: true } },
      { id: 'xom-2', relay: { driver: 'sysfs', chip: 'pinctrl-bcm2711', line: 27 }, volume: { percent: 70 } },
    ]
    expect(loadConfig([], { LOA_DEVICE_ID: 'pi-1', ...KEY, LOA_ZONES: JSON.stringify(zones) }).zones).toEqual(
      zones,
    )
    const file = join(tmp(), 'agent.json')
    writeFileSync(
      file,
      JSON.stringify({ deviceId: 'pi-1', zones: [{ id: 'a', relay: { driver: 'gpiod', line: 3 } }] }),
    )
    expect(() => loadConfig(['--config', file], {})).toThrow(`zones (from ${file}): must be a list`)
    const twice = [zones[0], zones[0]]
    expect(() => loadConfig([], { LOA_DEVICE_ID: 'pi-1', LOA_ZONES: JSON.stringify(twice) })).toThrow(
      'unique ids',
    )
    expect(() => loadConfig([], { LOA_DEVICE_ID: 'pi-1', LOA_ZONES: '[{' })).toThrow(
      'zones (from LOA_ZONES): must be JSON',
    )
  })

  it('brokers: mqtt.url alone is a list of one; mqtt.urls (file) or LOA_MQTT_URLS (comma-separated), deduplicated', () => {
    const base = { LOA_DEVICE_ID: 'pi-1', ...KEY }
    expect(loadConfig([], base).mqtt).toEqual({
      url: 'mqtt://127.0.0.1:1883',
      urls: ['mqtt://127.0.0.1:1883'],
    })
    expect(loadConfig([], { ...base, LOA_MQTT_URL: 'mqtts://b.tinh.vn' }).mqtt).toEqual({
      url: 'mqtts://b.tinh.vn',
      urls: ['mqtts://b.tinh.vn'],
    })
    // The default mqtt.url is nobody's choice: a list replaces it.
    const env = { ...base, LOA_MQTT_URLS: 'mqtts://a.tinh.vn, mqtts://b.tinh.vn:8883,mqtts://a.tinh.vn:8883' }
    expect(loadConfig([], env).mqtt).toEqual({
      url: 'mqtts://a.tinh.vn',
      urls: ['mqtts://a.tinh.vn', 'mqtts://b.tinh.vn:8883'],
    })
    // A mqtt.url that was set joins the list, first.
    const file = join(tmp(), 'agent.json')
    writeFileSync(
      file,
      JSON.stringify({ deviceId: 'pi-1', mqtt: { url: 'mqtt://c:1883', urls: ['mqtt://a', 'mqtt://c'] } }),
    )
    expect(loadConfig(['--config', file], KEY).mqtt).toEqual({
      url: 'mqtt://c:1883',
      urls: ['mqtt://c:1883', 'mqtt://a'],
    })
  })

  it('brokers: every entry checked, naming its index and source; an empty list refused', () => {
    const base = { LOA_DEVICE_ID: 'pi-1', ...KEY }
    expect(() => loadConfig([], { ...base, LOA_MQTT_URLS: 'mqtt://a,http://b' })).toThrow(
      'mqtt.urls[1] (from LOA_MQTT_URLS): must be a mqtt:// or mqtts:// URL',
    )
    expect(() => loadConfig([], { ...base, LOA_MQTT_URLS: 'mqtt://a,,mqtt://b' })).toThrow(
      'mqtt.urls[1] (from LOA_MQTT_URLS)',
    )
    expect(() => loadConfig([], { ...base, LOA_MQTT_URLS: 'mqtt://' })).toThrow(
      'mqtt.urls[0] (from LOA_MQTT_URLS)',
    )
    const file = join(tmp(), 'agent.json')
    writeFileSync(file, JSON.stringify({ deviceId: 'pi-1', mqtt: { urls: [] } }))
    expect(() => loadConfig(['--config', file], KEY)).toThrow(
      `mqtt.urls (from ${file}): must be a list of 1–16`,
    )
    writeFileSync(file, JSON.stringify({ deviceId: 'pi-1', mqtt: { urls: 'mqtt://a' } }))
    expect(() => loadConfig(['--config', file], KEY)).toThrow(`mqtt.urls (from ${file}): must be a list`)
    writeFileSync(file, JSON.stringify({ deviceId: 'pi-1', mqtt: { urls: ['mqtt://a', 'mqtt://b c'] } }))
    expect(() => loadConfig(['--config', file], KEY)).toThrow(`mqtt.urls[1] (from ${file})`)
    expect(() => loadConfig([], { ...base, LOA_MQTT_URL: 'mqtt://[oops' })).toThrow(
      'mqtt.url (from LOA_MQTT_URL): must be a mqtt:// or mqtts:// URL',
    )
  })
})
