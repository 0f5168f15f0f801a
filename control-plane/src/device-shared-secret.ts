import { createHash, timingSafeEqual } from 'node:crypto'
import type { DeviceVerifier } from './context.js'
import type { Repositories } from './repositories.js'

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest()

/**
 * Interim device check for media downloads (LOA_DEVICE_SHARED_SECRET): any known cluster with the one shared
 * secret. Per-device credentials (docs/security.md) replace it; it exists so agents and the e2e harness keep
 * downloading media while those land.
 */
export function sharedSecretVerifier(repos: Repositories, secret: string): DeviceVerifier {
  const expected = digest(secret)
  return {
    async verify(deviceId, given) {
      const ok = timingSafeEqual(digest(given), expected)
      return ok && (await repos.clusters.get(deviceId)) !== null
    },
  }
}

/** Accepts what either verifier accepts. */
export function eitherVerifier(a: DeviceVerifier, b: DeviceVerifier): DeviceVerifier {
  return { verify: async (id, secret) => (await a.verify(id, secret)) || (await b.verify(id, secret)) }
}
