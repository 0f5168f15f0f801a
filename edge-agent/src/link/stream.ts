import { createConnection, isIP } from 'node:net'
import { connect as tlsConnect } from 'node:tls'
import type { IStream } from 'mqtt'
import type { Broker } from './brokers.js'

/**
 * Opens the socket to one broker, as mqtt.js's own tcp/tls builders do, but per broker: the TLS server name
 * follows the host dialled (mqtt.js's `servers` option keeps the first host's name, which fails verification of
 * the others), and the CA and client certificate apply to every broker.
 */
export function openBrokerStream(
  b: Broker,
  tls: { ca?: Buffer; cert?: Buffer; key?: Buffer } | undefined,
): IStream {
  // mqtt.connect upgraded mqtt:// to TLS when a client certificate was given (port 8883 unless named): kept.
  const secure = b.protocol === 'mqtts' || Boolean(tls?.cert && tls.key)
  if (!secure) return createConnection({ host: b.host, port: b.port }) as unknown as IStream
  const port = b.protocol === 'mqtt' && !b.portGiven ? 8883 : b.port
  // An error (refused, a certificate the CA does not vouch for) reaches mqtt.js through the stream's own
  // 'error' listener; the socket is destroyed and the next attempt goes to the next broker.
  return tlsConnect({
    host: b.host,
    port,
    ...(isIP(b.host) === 0 ? { servername: b.host } : {}),
    ...tls,
    rejectUnauthorized: true,
  }) as unknown as IStream
}
