import type { Db } from '../storage/db.js'
import type { DeviceCredentialRecord, DeviceCredentialRepository } from './credentials.js'

interface Row {
  device_id: string
  secret_hash: string
  generation: number
  issued_at: string
  revoked_at: string | null
}

const toRecord = (r: Row): DeviceCredentialRecord => ({
  deviceId: r.device_id,
  secretHash: r.secret_hash,
  generation: r.generation,
  issuedAt: r.issued_at,
  revokedAt: r.revoked_at,
})

export function sqliteCredentials(db: Db): DeviceCredentialRepository {
  const get = db.prepare('SELECT * FROM device_credentials WHERE device_id = ?')
  const put = db.prepare(
    `INSERT INTO device_credentials (device_id, secret_hash, generation, issued_at, revoked_at)
     VALUES (@deviceId, @secretHash, @generation, @issuedAt, @revokedAt)
     ON CONFLICT (device_id) DO UPDATE SET secret_hash = excluded.secret_hash, generation = excluded.generation,
       issued_at = excluded.issued_at, revoked_at = excluded.revoked_at`,
  )
  const revoke = db.prepare(
    'UPDATE device_credentials SET revoked_at = ? WHERE device_id = ? AND revoked_at IS NULL',
  )
  const list = db.prepare('SELECT * FROM device_credentials ORDER BY device_id')
  return {
    async get(deviceId) {
      const r = get.get(deviceId) as Row | undefined
      return r ? toRecord(r) : null
    },
    async put(r) {
      put.run(r)
    },
    async revoke(deviceId, at) {
      return revoke.run(at, deviceId).changes > 0
    },
    async list() {
      return (list.all() as Row[]).map(toRecord)
    },
  }
}
