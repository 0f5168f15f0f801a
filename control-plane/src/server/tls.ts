import fs from 'node:fs'
import { ConfigError, type ControlPlaneConfig } from '../config.js'

export interface TlsMaterial {
  key: Buffer
  cert: Buffer
  ca?: Buffer
}

function read(file: string, variable: string): Buffer {
  try {
    return fs.readFileSync(file)
  } catch (err) {
    throw new ConfigError(variable, `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`)
  }
}

/**
 * The server certificate, key and CA from the configured paths, or null when TLS is off. Both cert and key or
 * neither; client certificates need the CA that signed them.
 */
export function loadTls(config: ControlPlaneConfig): TlsMaterial | null {
  const { tlsCertFile: cert, tlsKeyFile: key, tlsCaFile: ca } = config
  if (!cert && !key) {
    if (config.mqttClientCerts)
      throw new ConfigError('LOA_MQTT_CLIENT_CERTS', 'needs LOA_TLS_CERT_FILE and _KEY_FILE')
    return null
  }
  if (!cert || !key)
    throw new ConfigError(cert ? 'LOA_TLS_KEY_FILE' : 'LOA_TLS_CERT_FILE', 'give both cert and key')
  if (config.mqttClientCerts && !ca)
    throw new ConfigError('LOA_TLS_CA_FILE', 'client certificates need the CA')
  return {
    cert: read(cert, 'LOA_TLS_CERT_FILE'),
    key: read(key, 'LOA_TLS_KEY_FILE'),
    ...(ca ? { ca: read(ca, 'LOA_TLS_CA_FILE') } : {}),
  }
}
