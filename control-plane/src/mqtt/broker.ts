import net from 'node:net'
import tls from 'node:tls'
import { Aedes, type AedesOptions } from 'aedes'
import type { BrokerConnectionGuard } from './broker-limits.js'

/** Authentication and ACL hooks on the embedded broker (mqtt/broker-auth.ts); `attach` sees the broker once started. */
export interface BrokerAuthHooks {
  authenticate?: AedesOptions['authenticate']
  authorizePublish?: AedesOptions['authorizePublish']
  authorizeSubscribe?: AedesOptions['authorizeSubscribe']
  authorizeForward?: AedesOptions['authorizeForward']
  attach?: (broker: Aedes) => void
}

export interface EmbeddedBroker {
  url: string
  port: number
  close(): Promise<void>
}

/** An in-memory aedes broker (MQTT 3.1.1) on a TCP port; the control plane's own state lives in its database. */
export async function startEmbeddedBroker(opts: {
  host: string
  port: number
  hooks?: BrokerAuthHooks
  /** MQTT over TLS; `requestCert` asks clients for a certificate (optional: password logins still work). */
  tls?: { key: Buffer; cert: Buffer; ca?: Buffer; requestCert?: boolean }
  /** Per-address, login-time and packet-size limits on every connection (mqtt/broker-limits.ts). */
  guard?: { connections: BrokerConnectionGuard; loginTimeoutMs: number }
}): Promise<EmbeddedBroker> {
  const guard = opts.guard?.connections
  const aedesOpts: AedesOptions = {
    id: 'loa-embedded',
    // aedes' own CONNECT timer (its default is 30 s); the guard's login timer covers the TLS handshake too.
    ...(opts.guard ? { connectTimeout: opts.guard.loginTimeoutMs } : {}),
  }
  if (opts.hooks?.authenticate) aedesOpts.authenticate = opts.hooks.authenticate
  if (opts.hooks?.authorizePublish) aedesOpts.authorizePublish = opts.hooks.authorizePublish
  if (opts.hooks?.authorizeSubscribe) aedesOpts.authorizeSubscribe = opts.hooks.authorizeSubscribe
  if (opts.hooks?.authorizeForward) aedesOpts.authorizeForward = opts.hooks.authorizeForward
  const broker = await Aedes.createBroker(aedesOpts)
  opts.hooks?.attach?.(broker)
  const handle = guard
    ? (conn: net.Socket) => {
        broker.handle(conn)
        guard.meter(conn)
      }
    : broker.handle
  if (guard) broker.on('client', (client) => guard.loggedIn(client))
  const server = opts.tls
    ? tls.createServer(
        {
          ...opts.tls,
          requestCert: opts.tls.requestCert ?? false,
          rejectUnauthorized: false,
          ...(opts.guard ? { handshakeTimeout: opts.guard.loginTimeoutMs } : {}),
        },
        handle,
      )
    : net.createServer(handle)
  // For TLS the raw socket, before the handshake: a connection that never gets through it counts as waiting.
  if (guard) server.prependListener('connection', (raw: net.Socket) => guard.admit(raw))
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const address = server.address() as net.AddressInfo
  const host = opts.host === '0.0.0.0' || opts.host === '::' ? '127.0.0.1' : opts.host
  return {
    url: `${opts.tls ? 'mqtts' : 'mqtt'}://${host}:${address.port}`,
    port: address.port,
    async close() {
      await new Promise<void>((resolve) => broker.close(() => resolve()))
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
        // Open client sockets would keep close() waiting forever.
        server.unref()
      })
    },
  }
}
