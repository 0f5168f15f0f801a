import { Type } from '@fastify/type-provider-typebox'
import { assertClusterInScope, requireWholeTree } from '../access/request-policy.js'
import type { App, Services } from '../context.js'
import { loaPlugin } from '../server/plugin.js'
import { mosquittoFilesFor } from './security.js'

const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) })

const CredentialStatusSchema = Type.Object({
  deviceId: Type.String(),
  username: Type.String(),
  state: Type.Union([Type.Literal('none'), Type.Literal('active'), Type.Literal('revoked')]),
  generation: Type.Integer(),
  issuedAt: Type.Union([Type.String(), Type.Null()]),
  revokedAt: Type.Union([Type.String(), Type.Null()]),
  connected: Type.Optional(Type.Boolean()),
})

const KeySchema = Type.Object({
  keyId: Type.String(),
  publicKey: Type.String({ description: 'base64 raw Ed25519 public key' }),
  createdAt: Type.String(),
  retiredAt: Type.Union([Type.String(), Type.Null()]),
  current: Type.Boolean(),
})

/** What device routes use of the services (app.ts passes exactly these). */
export type DeviceRoutesDeps = Pick<
  Services,
  'brokerAuth' | 'brokerIdentities' | 'credentials' | 'desired' | 'repos' | 'signingKeys' | 'topics'
>

/** Device credentials, the broker's Mosquitto files and the signing keys (docs/security.md). */
export function registerDeviceRoutes(app: App, s: DeviceRoutesDeps): void {
  const admin = { permission: 'admin-devices' as const }

  app.post(
    '/api/clusters/:id/credentials',
    {
      config: admin,
      schema: {
        tags: ['devices'],
        summary: 'Issue or rotate a device credential (the password is shown once)',
        params: IdParams,
        response: {
          201: Type.Object({
            deviceId: Type.String(),
            username: Type.String(),
            password: Type.String(),
            issuedAt: Type.String(),
            generation: Type.Integer(),
          }),
        },
      },
    },
    async (req, reply) => {
      await assertClusterInScope(s, req, req.params.id, 'read')
      const issued = await s.credentials.issue(req.params.id)
      req.log.info({ deviceId: issued.deviceId, generation: issued.generation }, 'device credential issued')
      return reply.status(201).send(issued)
    },
  )

  app.post(
    '/api/clusters/:id/revoke',
    {
      config: admin,
      schema: {
        tags: ['devices'],
        summary: 'Revoke a device: disconnected at once, refused on reconnect',
        params: IdParams,
        response: { 200: CredentialStatusSchema },
      },
    },
    async (req) => {
      await assertClusterInScope(s, req, req.params.id, 'read')
      const status = await s.credentials.revoke(req.params.id)
      req.log.warn({ deviceId: status.deviceId }, 'device credential revoked')
      return status
    },
  )

  app.get(
    '/api/clusters/:id/credentials',
    {
      config: admin,
      schema: { tags: ['devices'], params: IdParams, response: { 200: CredentialStatusSchema } },
    },
    async (req) => {
      await assertClusterInScope(s, req, req.params.id, 'read')
      const status = await s.credentials.status(req.params.id)
      return s.brokerAuth ? { ...status, connected: s.brokerAuth.isConnected(req.params.id) } : status
    },
  )

  app.get(
    '/api/broker/mosquitto',
    {
      config: admin,
      schema: {
        tags: ['devices'],
        summary: 'Mosquitto password and ACL files generated from the database',
        response: {
          200: Type.Object({
            passwordFile: Type.String(),
            aclFile: Type.String(),
            configSnippet: Type.String(),
          }),
        },
      },
    },
    async (req) => {
      await requireWholeTree(s, req)
      return mosquittoFilesFor({
        repos: s.repos,
        topics: s.topics,
        controlPlane: s.brokerIdentities?.controlPlane ?? null,
        monitor: s.brokerIdentities?.monitor ?? null,
      })
    },
  )

  app.get(
    '/api/signing-keys',
    {
      config: { permission: 'read' },
      schema: {
        tags: ['devices'],
        summary: "The control plane's public signing keys (pin the current one in a box's config)",
        response: { 200: Type.Object({ current: Type.String(), keys: Type.Array(KeySchema) }) },
      },
    },
    async () => ({ current: s.signingKeys.current().keyId, keys: s.signingKeys.list() }),
  )

  app.post(
    '/api/signing-keys/rotate',
    {
      config: admin,
      schema: {
        tags: ['devices'],
        summary: 'Rotate the signing key; boxes follow through the key chain, no re-provisioning',
        response: { 201: KeySchema },
      },
    },
    async (req, reply) => {
      await requireWholeTree(s, req)
      const key = s.signingKeys.rotate()
      req.log.warn({ keyId: key.keyId }, 'signing key rotated')
      // Every box learns the new key from its desired state, re-sent now signed with it (chain included).
      void s.desired.republishAll()
      return reply.status(201).send(key)
    },
  )
}

/** registerDeviceRoutes as a Fastify plugin (server/plugin.ts). */
export const deviceRoutes = loaPlugin('loa-device-routes', registerDeviceRoutes)
