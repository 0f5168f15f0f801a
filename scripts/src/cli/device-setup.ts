import type { Api } from './api.js'
import { CliError, EXIT, usageError } from './exit.js'

/** Options shared by `devices provision` and `devices rotate`. */
export interface ProvisionOptions {
  id?: string
  unit?: string
  name?: string
  zones?: string
  tags?: string
  lat?: string
  lon?: string
  csv?: string
  out: string
  qr?: boolean
  mqttUrl?: string
  deviceApiUrl?: string
  output: string
  relay: string
  gpioChip: string
  gpioLines: string
  ca?: string
  clientCert?: boolean
  force?: boolean
}

/**
 * The addresses the box uses, which are not always the ones this CLI uses (it may run on the server itself):
 * flags, then LOA_DEVICE_MQTT_URL / LOA_DEVICE_API_URL, then the API's host with the default broker port.
 */
export function deviceUrls(
  apiUrl: string,
  o: { mqttUrl?: string; deviceApiUrl?: string; ca?: string },
  env: NodeJS.ProcessEnv = process.env,
): { mqttUrl: string; controlPlaneUrl: string } {
  const controlPlaneUrl = o.deviceApiUrl ?? env.LOA_DEVICE_API_URL ?? apiUrl
  const host = new URL(controlPlaneUrl).hostname
  const mqttUrl =
    o.mqttUrl ?? env.LOA_DEVICE_MQTT_URL ?? (o.ca ? `mqtts://${host}:8883` : `mqtt://${host}:1883`)
  if (!/^mqtts?:\/\/\S+$/.test(mqttUrl))
    throw usageError(`--mqtt-url: "${mqttUrl}" không phải / is not mqtt(s)://`)
  if (!/^https?:\/\/\S+$/.test(controlPlaneUrl))
    throw usageError(`--device-api-url: "${controlPlaneUrl}" không phải / is not http(s)://`)
  return { mqttUrl, controlPlaneUrl: controlPlaneUrl.replace(/\/+$/, '') }
}

/** The control plane's current public signing key, pinned in the box's config. */
export async function fetchSigningKey(api: Api): Promise<{ keyId: string; publicKey: string }> {
  const r = await api.get<{ current: string; keys: { keyId: string; publicKey: string }[] }>(
    '/api/signing-keys',
  )
  const key = r.keys.find((k) => k.keyId === r.current)
  if (!key)
    throw new CliError(
      'LOA_CLI_NO_SIGNING_KEY',
      'Máy chủ không có khoá ký / no current signing key',
      EXIT.internal,
    )
  return { keyId: key.keyId, publicKey: key.publicKey }
}
