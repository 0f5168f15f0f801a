import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import type { AddressInfo, Socket } from 'node:net'
import { join } from 'node:path'
import { createServer } from 'node:tls'
import { topicTree } from '@loa/shared'
import { waitFor } from '@loa/testkit'
import { Aedes } from 'aedes'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { silentLog, tmp } from '../../test-kit/test-helpers.js'
import { openDb } from '../storage/db.js'
import { startIndex } from './brokers.js'
import { MqttLink } from './mqtt.js'
import { Outbox } from './outbox.js'

/** A CA; a broker certificate for the name localhost only, one for the address 127.0.0.1 only; a self-signed one. */
function makePki(dir: string): void {
  const ossl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' })
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2']
  const ca = [
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]
  ossl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', '/CN=Loa Test CA', ...ca)
  const issue = (name: string, san: string) => {
    writeFileSync(join(dir, `${name}.ext`), `subjectAltName=${san}\nextendedKeyUsage=serverAuth\n`)
    ossl('req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`)
    const sign = ['-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2']
    ossl('x509', '-req', '-in', `${name}.csr`, ...sign, '-out', `${name}.crt`, '-extfile', `${name}.ext`)
  }
  issue('by-name', 'DNS:localhost')
  issue('by-ip', 'IP:127.0.0.1')
  const rogue = ['-addext', 'subjectAltName=IP:127.0.0.1']
  ossl('req', '-x509', ...ec, '-keyout', 'rogue.key', '-out', 'rogue.crt', '-subj', '/CN=rogue', ...rogue)
}

/** A real aedes broker over TLS with this certificate; `clients` counts the MQTT sessions it accepted. */
async function tlsBroker(dir: string, name: string) {
  const broker = await Aedes.createBroker()
  const server = createServer(
    { cert: readFileSync(join(dir, `${name}.crt`)), key: readFileSync(join(dir, `${name}.key`)) },
    broker.handle,
  )
  const sockets = new Set<Socket>()
  server.on('secureConnection', (s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  const seen = { clients: 0 }
  broker.on('client', () => {
    seen.clients++
  })
  // No host: IPv6 and IPv4 where the machine has both, so `localhost` answers whichever it resolves to.
  await new Promise<void>((r) => server.listen(0, r))
  const port = (server.address() as AddressInfo).port
  let closing: Promise<void> | undefined
  return {
    port,
    seen,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        broker.close(() => server.close(() => resolve()))
        for (const s of sockets) s.destroy()
      })),
  }
}

describe('several brokers over mqtts: one CA for all, each checked by its own name', () => {
  let dir: string
  const closers: (() => Promise<unknown>)[] = []
  beforeAll(() => {
    dir = tmp('loa-failover-tls-')
    makePki(dir)
  })
  afterAll(async () => {
    for (const c of closers.reverse()) await c().catch(() => {})
  })

  function link(deviceId: string, urls: string[]) {
    const db = openDb(join(dir, `${deviceId}.db`))
    const l = new MqttLink({
      url: urls,
      tls: { ca: readFileSync(join(dir, 'ca.crt')) },
      deviceId,
      tree: topicTree('loa'),
      outbox: new Outbox(db),
      log: silentLog,
      onMessage: () => {},
      onConnect: () => {},
      flushIntervalMs: 200,
    })
    closers.push(async () => {
      await l.stop()
      db.close()
    })
    l.start()
    return l
  }

  it('moves between a broker known by name and one known by address, verifying each', async () => {
    const byName = await tlsBroker(dir, 'by-name')
    const byIp = await tlsBroker(dir, 'by-ip')
    closers.push(byName.close, byIp.close)
    const urls = [`mqtts://localhost:${byName.port}`, `mqtts://127.0.0.1:${byIp.port}`]
    const l = link('pi-tls1', urls)
    await waitFor(() => l.connected, 10_000, 'first connection over TLS')
    const onName = l.broker === `mqtts://localhost:${byName.port}`
    await (onName ? byName : byIp).close()
    const other = onName ? `mqtts://127.0.0.1:${byIp.port}` : `mqtts://localhost:${byName.port}`
    await waitFor(() => l.broker === other, 10_000, 'on the other broker, its certificate accepted')
  })

  it('a broker whose certificate the CA did not issue is skipped: the box ends on the next one, never on it', async () => {
    const rogue = await tlsBroker(dir, 'rogue')
    const good = await tlsBroker(dir, 'by-ip')
    closers.push(rogue.close, good.close)
    // Devices that start on the rogue broker (index 0) and on the good one: all must end on the good one.
    const ids = ['pi-tls2', 'pi-tls3', 'pi-tls4']
    expect(new Set(ids.map((id) => startIndex(id, 2)))).toEqual(new Set([0, 1]))
    for (const deviceId of ids) {
      const l = link(deviceId, [`mqtts://127.0.0.1:${rogue.port}`, `mqtts://127.0.0.1:${good.port}`])
      await waitFor(
        () => l.broker === `mqtts://127.0.0.1:${good.port}`,
        10_000,
        `${deviceId} on the good broker`,
      )
    }
    expect(rogue.seen.clients).toBe(0)
    expect(good.seen.clients).toBe(3)
  })
})
