import net from 'node:net'
import tls from 'node:tls'
import { Aedes, type AedesOptions } from 'aedes'

/** Authentication and ACL hooks on the embedded broker (broker-auth.ts); `attach` sees the broker once started. */
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
}): Promise<EmbeddedBroker> {
  const aedesOpts: AedesOptions = { id: 'loa-embedded' }
  if (opts.hooks?.authenticate) aedesOpts.authenticate = opts.hooks.authenticate
  if (opts.hooks?.authorizePublish) aedesOpts.authorizePublish = opts.hooks.authorizePublish
  if (opts.hooks?.authorizeSubscribe) aedesOpts.authorizeSubscribe = opts.hooks.authorizeSubscribe
  if (opts.hooks?.authorizeForward) aedesOpts.authorizeForward = opts.hooks.authorizeForward
  const broker = await Aedes.createBroker(aedesOpts)
  opts.hooks?.attach?.(broker)
  const server = opts.tls
    ? tls.createServer(
        { ...opts.tls, requestCert: opts.tls.requestCert ?? false, rejectUnauthorized: false },
        broker.handle,
      )
    : net.createServer(broker.handle)
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
