import net from 'node:net'
import { Aedes, type AedesOptions } from 'aedes'

/**
 * The seam for the device-security issue: per-device credentials and topic ACLs plug in here. Until then every
 * client is accepted (aedes defaults).
 */
export interface BrokerAuthHooks {
  authenticate?: AedesOptions['authenticate']
  authorizePublish?: AedesOptions['authorizePublish']
  authorizeSubscribe?: AedesOptions['authorizeSubscribe']
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
}): Promise<EmbeddedBroker> {
  const aedesOpts: AedesOptions = { id: 'loa-embedded' }
  if (opts.hooks?.authenticate) aedesOpts.authenticate = opts.hooks.authenticate
  if (opts.hooks?.authorizePublish) aedesOpts.authorizePublish = opts.hooks.authorizePublish
  if (opts.hooks?.authorizeSubscribe) aedesOpts.authorizeSubscribe = opts.hooks.authorizeSubscribe
  const broker = await Aedes.createBroker(aedesOpts)
  const server = net.createServer(broker.handle)
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
    url: `mqtt://${host}:${address.port}`,
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
