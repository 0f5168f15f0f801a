import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { seedTree, startTestPlane } from '../../test-kit/test-helpers.js'
import { generateSecret, mosquittoHash, verifyMosquittoHash } from './credentials-hash.js'

describe('device secret hashes', () => {
  it('verifies a hash written by mosquitto_passwd, and refuses a wrong secret', async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'loa-pw-')), 'passwd')
    fs.writeFileSync(file, '')
    execFileSync('mosquitto_passwd', ['-b', file, 'c-a', 'the-secret'])
    const hash = fs.readFileSync(file, 'utf8').trim().split(':')[1] as string
    expect(hash).toMatch(/^\$7\$/)
    expect(await verifyMosquittoHash('the-secret', hash)).toBe(true)
    expect(await verifyMosquittoHash('the-secreT', hash)).toBe(false)
    expect(await verifyMosquittoHash('the-secret', 'garbage')).toBe(false)
  })

  it('writes salted $7$ hashes: the same secret never hashes the same twice', async () => {
    const secret = generateSecret()
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/)
    const a = mosquittoHash(secret)
    const b = mosquittoHash(secret)
    expect(a).not.toBe(b)
    expect(a).toMatch(/^\$7\$101\$[A-Za-z0-9+/]{16}\$[A-Za-z0-9+/]{86}==$/)
    expect(await verifyMosquittoHash(secret, a)).toBe(true)
  })
})

describe('device credentials API', () => {
  it('issues (password once), rotates, reports status without the secret, and revokes', async () => {
    const t = await startTestPlane()
    try {
      await seedTree(t)
      expect((await t.api('GET', '/api/clusters/c-a/credentials')).body).toMatchObject({ state: 'none' })
      const first = await t.api<{ password: string; username: string; generation: number }>(
        'POST',
        '/api/clusters/c-a/credentials',
      )
      expect(first.status).toBe(201)
      expect(first.body.username).toBe('c-a')
      const status = await t.api('GET', '/api/clusters/c-a/credentials')
      expect(status.body).toMatchObject({ state: 'active', generation: 1 })
      expect(JSON.stringify(status.body)).not.toContain(first.body.password)
      const second = await t.api<{ password: string; generation: number }>(
        'POST',
        '/api/clusters/c-a/credentials',
      )
      expect(second.body.generation).toBe(2)
      expect(second.body.password).not.toBe(first.body.password)
      const revoked = await t.api('POST', '/api/clusters/c-a/revoke')
      expect(revoked.body).toMatchObject({ state: 'revoked' })
      expect((await t.api('POST', '/api/clusters/nope/credentials')).status).toBe(404)
      // The database holds only the hash.
      const db = fs.readFileSync(path.join(t.dir, 'loa.db'))
      expect(db.includes(Buffer.from(second.body.password))).toBe(false)
    } finally {
      await t.close()
    }
  })
})
