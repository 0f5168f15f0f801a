import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfigFromEnv } from '../config.js'

describe('limits from the environment', () => {
  it('have documented defaults and take every LOA_MQTT_* / LOA_HTTP_* variable', () => {
    const c = loadConfigFromEnv({})
    expect(c.mqttLimits).toEqual({
      connectMaxBytes: 8192,
      loginTimeoutMs: 10_000,
      maxPendingPerAddress: 256,
      loginFailureBurst: 20,
      loginFailureRefillMs: 5_000,
      loginFailureDelayMs: 2_000,
      refusalLogPerMinute: 30,
    })
    expect(c.httpLimits).toEqual({
      headersTimeoutMs: 20_000,
      requestTimeoutMs: 3_600_000,
      idleTimeoutMs: 120_000,
      keepAliveTimeoutMs: 30_000,
      minBodyBytesPerS: 2048,
      bodyRateWindowMs: 30_000,
      maxUploadsPerAddress: 6,
      maxUploadsPerUser: 3,
    })
    const set = loadConfigFromEnv({
      LOA_MQTT_MAX_CONNECT_BYTES: '4096',
      LOA_MQTT_LOGIN_FAILURE_BURST: '3',
      LOA_HTTP_MIN_BODY_RATE: '0',
      LOA_HTTP_MAX_UPLOADS_PER_USER: '1',
    })
    expect(set.mqttLimits).toMatchObject({ connectMaxBytes: 4096, loginFailureBurst: 3 })
    expect(set.httpLimits).toMatchObject({ minBodyBytesPerS: 0, maxUploadsPerUser: 1 })
  })

  it('refuse bad values and combinations, naming the variable', () => {
    for (const [name, value] of [
      ['LOA_MQTT_MAX_CONNECT_BYTES', '10'],
      ['LOA_MQTT_LOGIN_TIMEOUT_MS', 'soon'],
      ['LOA_HTTP_BODY_RATE_WINDOW_MS', '0'],
      ['LOA_HTTP_MAX_UPLOADS_PER_ADDRESS', '1.5'],
    ] as const) {
      expect(() => loadConfigFromEnv({ [name]: value })).toThrow(new RegExp(name))
    }
    expect(() =>
      loadConfigFromEnv({ LOA_MQTT_LOGIN_TIMEOUT_MS: '1000', LOA_MQTT_LOGIN_FAILURE_DELAY_MS: '1000' }),
    ).toThrow(/LOA_MQTT_LOGIN_FAILURE_DELAY_MS/)
    expect(() =>
      loadConfigFromEnv({ LOA_HTTP_HEADERS_TIMEOUT_MS: '60000', LOA_HTTP_REQUEST_TIMEOUT_MS: '30000' }),
    ).toThrow(ConfigError)
  })
})
