import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Agent } from '@loa/edge-agent'
import { accessFetch, httpAccess } from '@loa/edge-agent/testing'
import { waitFor } from '@loa/testkit'
import mqtt from 'mqtt'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  devicePassword,
  makeAudio,
  seedTree,
  startTestPlane,
  type TestPlane,
  uploadMedia,
} from '../control-plane/test-kit/test-helpers.js'

/** A private CA, a server certificate for 127.0.0.1 and client certificates, made by openssl as `loa ca` does. */
function makePki(dir: string): void {
  const ossl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' })
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes']
  ossl(
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-subj',
    '/CN=Loa Test CA',
    '-days',
    '2',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  )
  const issue = (name: string, cn: string, ext: string, ca = 'ca') => {
    writeFileSync(join(dir, `${name}.ext`), ext)
    ossl('req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`)
    ossl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      `${ca}.crt`,
      '-CAkey',
      `${ca}.key`,
      '-CAcreateserial',
      '-out',
      `${name}.crt`,
      '-days',
      '2',
      '-extfile',
      `${name}.ext`,
    )
  }
  issue('server', 'localhost', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n')
  issue('c-a', 'c-a', 'extendedKeyUsage=clientAuth\n')
  // Another province's CA, and a certificate it issued for c-a.
  ossl(
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'evil.key',
    '-out',
    'evil.crt',
    '-subj',
    '/CN=Evil CA',
    '-days',
    '2',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  )
  issue('forged', 'c-a', 'extendedKeyUsage=clientAuth\n', 'evil')
}

describe('MQTT over TLS and HTTPS, with client certificates', { timeout: 180_000 }, () => {
  let dir: string
  let t: TestPlane
  let agent: Agent | null = null
  const file = (name: string) => join(dir, name)

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'loa-tls-'))
    makePki(dir)
    t = await startTestPlane({
      tlsCertFile: file('server.crt'),
      tlsKeyFile: file('server.key'),
      tlsCaFile: file('ca.crt'),
      mqttClientCerts: true,
    })
    await seedTree(t)
  })
  afterAll(async () => {
    await agent?.stop()
    await t?.close()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('serves mqtts:// and https://; a device logs in by password or by its certificate, not a foreign one', async () => {
    expect(t.cp.mqttUrl).toMatch(/^mqtts:\/\//)
    expect(t.cp.httpUrl).toMatch(/^https:\/\//)
    const ca = readFileSync(file('ca.crt'))
    const base = { ca, protocolVersion: 4 as const, reconnectPeriod: 0, connectTimeout: 5000 }
    const password = await devicePassword(t, 'c-a')
    const byPassword = await mqtt.connectAsync(t.cp.mqttUrl, {
      ...base,
      clientId: 'loa-agent-c-a',
      username: 'c-a',
      password,
    })
    await byPassword.endAsync(true)
    const cert = { cert: readFileSync(file('c-a.crt')), key: readFileSync(file('c-a.key')) }
    const byCert = await mqtt.connectAsync(t.cp.mqttUrl, { ...base, ...cert, clientId: 'loa-agent-c-a' })
    await byCert.publishAsync('loa/v1/device/c-a/presence', '{}', { qos: 1 })
    await byCert.endAsync(true)
    const refused = (opts: mqtt.IClientOptions) =>
      mqtt.connectAsync(t.cp.mqttUrl, { ...base, ...opts }).then(
        async (c) => {
          await c.endAsync(true)
          return 'connected'
        },
        (err: Error) => err.message,
      )
    // c-a's certificate does not make it c-b; another CA's certificate for c-a proves nothing.
    expect(await refused({ ...cert, clientId: 'loa-agent-c-b', username: 'c-b' })).toMatch(/Not authorized/i)
    const forged = { cert: readFileSync(file('forged.crt')), key: readFileSync(file('forged.key')) }
    expect(await refused({ ...forged, clientId: 'loa-agent-c-a' })).toMatch(/Not authorized/i)
    // A client that does not trust the province CA refuses the server.
    expect(await refused({ ca: undefined, clientId: 'loa-agent-c-a', username: 'c-a', password })).not.toBe(
      'connected',
    )
  })

  it('tells browsers to keep to HTTPS (HSTS) when it serves HTTPS itself', async () => {
    const r = await t.cp.app.inject({ method: 'GET', url: '/healthz' })
    expect(r.headers['strict-transport-security']).toBe('max-age=31536000')
  })

  it('an agent connects over mqtts with its certificate, pins the key, and downloads media over https', async () => {
    const keys = await t.api<{ current: string; keys: { keyId: string; publicKey: string }[] }>(
      'GET',
      '/api/signing-keys',
    )
    const pinned = keys.body.keys.find((k) => k.keyId === keys.body.current)
    const password = await devicePassword(t, 'c-a')
    const config = {
      deviceId: 'c-a',
      mqtt: { url: t.cp.mqttUrl },
      controlPlaneUrl: t.cp.httpUrl,
      controlPlaneKey: pinned,
      tls: { caFile: file('ca.crt'), certFile: file('c-a.crt'), keyFile: file('c-a.key') },
      topicRoot: 'loa',
      dataDir: join(dir, 'agent'),
      output: 'null',
      relay: { driver: 'simulated' as const },
      prerollMs: 100,
      postrollMs: 100,
      cacheBudgetMb: 10,
      minFreeMb: 0,
      telemetryIntervalS: 3600,
      timezone: 'Asia/Ho_Chi_Minh',
      logLevel: 'silent',
      localPage: { port: 0, host: 'off', maxRelaySeconds: 60 },
    }
    agent = new Agent(config, pino({ level: 'silent' }))
    await agent.start()
    await waitFor(
      async () => (await t.api<{ online: boolean }>('GET', '/api/clusters/c-a')).body.online,
      30_000,
      'c-a online over mqtts',
    )
    await waitFor(() => agent?.store.received() ?? null, 30_000, 'signed desired state accepted')

    const media = await uploadMedia(t, readFileSync(makeAudio(dir, 'tone.wav')))
    const sha = media.body.sha256 as string
    const withCreds = accessFetch(
      httpAccess({
        controlPlaneUrl: t.cp.httpUrl,
        username: 'c-a',
        password,
        tls: { caFile: file('ca.crt') },
      }),
    )
    const ok = await withCreds(`${t.cp.httpUrl}/media/${sha}`)
    expect(ok.status).toBe(200)
    expect((await ok.arrayBuffer()).byteLength).toBe(media.body.size)
    const anonymous = accessFetch(
      httpAccess({ controlPlaneUrl: t.cp.httpUrl, tls: { caFile: file('ca.crt') } }),
    )
    const refused = await anonymous(`${t.cp.httpUrl}/media/${sha}`)
    expect(refused.status).toBe(401)
    await refused.arrayBuffer()
  })
})
