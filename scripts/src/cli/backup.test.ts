import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  makeAudio,
  seedTree,
  startTestPlane,
  type TestPlane,
  uploadMedia,
} from '../../../control-plane/test-kit/test-helpers.js'
import { cliEnv, modeOf, runCli } from '../../test-kit/cli.js'

const PASSWORD = 'mật-khẩu-đủ-dài-123'

interface Manifest {
  schemaVersion: number
  files: { path: string; size: number; sha256: string; mode: number }[]
}

describe('loa backup and loa restore', { timeout: 240_000 }, () => {
  let dir: string
  let env: Record<string, string>
  let t: TestPlane | null = null
  let sha: string
  let audio: Buffer
  let signingKey: string
  const tar = () => path.join(dir, 'loa.tar')
  const tree = () => path.join(dir, 'loa-dir')

  /** A fresh copy of the directory archive, for one tampering. */
  const copyTree = (name: string) => {
    const to = path.join(dir, name)
    fs.cpSync(tree(), to, { recursive: true })
    return to
  }
  const manifestOf = (archive: string) =>
    JSON.parse(fs.readFileSync(path.join(archive, 'manifest.json'), 'utf8')) as Manifest
  const writeManifest = (archive: string, m: Manifest) =>
    fs.writeFileSync(path.join(archive, 'manifest.json'), JSON.stringify(m))

  /** Restore is refused with `code`, and the (empty) target directory and its parent stay as they were. */
  const expectRefused = async (from: string, code: string, exit = 65) => {
    const target = path.join(dir, `target-${path.basename(from)}`)
    fs.mkdirSync(target)
    const before = fs.readdirSync(dir).sort()
    const r = await runCli(['--json', 'restore', '--from', from, '--data-dir', target], { env })
    expect(r.code, r.stderr).toBe(exit)
    expect(r.json<{ error: { code: string } }>().error.code).toBe(code)
    expect(fs.readdirSync(target)).toEqual([])
    expect(fs.readdirSync(dir).sort()).toEqual(before)
    return r
  }

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loa-cli-backup-'))
    env = cliEnv().env
    t = await startTestPlane({ dataDir: path.join(dir, 'data') })
    await seedTree(t)
    audio = fs.readFileSync(makeAudio(dir, 'a.wav', { seconds: 1 }))
    const m = await uploadMedia(t, audio)
    expect(m.status).toBe(201)
    sha = m.body.sha256 as string
    const u = await t.api('POST', '/api/users', {
      username: 'lan',
      displayName: 'Lan',
      role: 'viewer',
      scopeUnitId: 'xa-a',
      password: PASSWORD,
    })
    expect(u.status).toBe(201)
    signingKey = (await t.api<{ current: string }>('GET', '/api/signing-keys')).body.current
  })
  afterAll(async () => {
    await t?.close()
    fs.rmSync(dir, { recursive: true, force: true })
  })

  it('backs up while the control plane runs, as a tar and as a directory, with a manifest', async () => {
    const plane = t as TestPlane
    for (const out of [tar(), tree()]) {
      const r = await runCli(['--json', 'backup', '--data-dir', plane.dir, '--out', out], { env })
      expect(r.code, r.stderr).toBe(0)
      const doc = r.json<{ archive: string; kind: string; files: number; schemaVersion: number }>()
      expect(doc).toMatchObject({ archive: out, kind: out.endsWith('.tar') ? 'tar' : 'dir' })
      expect(doc.schemaVersion).toBeGreaterThanOrEqual(11)
    }
    expect(modeOf(tar())).toBe(0o600)
    const m = manifestOf(tree())
    const paths = m.files.map((f) => f.path)
    expect(paths).toEqual(
      expect.arrayContaining(['loa.db', `media/${sha}`, 'signing/keys.json', 'mqtt-control-plane.secret']),
    )
    expect(paths.some((p) => p.startsWith('tmp/') || p.startsWith('loa.db-'))).toBe(false)
    const key = m.files.find((f) => /^signing\/key-.*\.pem$/.test(f.path))
    expect(key?.mode).toBe(0o600)
    // Never over an existing archive.
    const again = await runCli(['--json', 'backup', '--data-dir', plane.dir, '--out', tar()], { env })
    expect(again.code).toBe(73)
    expect(again.json<{ error: { code: string } }>().error.code).toBe('LOA_BACKUP_OUT_EXISTS')
    const none = await runCli(['--json', 'backup', '--data-dir', path.join(dir, 'nope'), '--out', dir], {
      env,
    })
    expect(none.code).toBe(66)
  })

  it('refuses a tampered, truncated or newer archive and leaves the target empty', async () => {
    const flipped = copyTree('flipped')
    const media = path.join(flipped, 'data', 'media', sha)
    const bytes = fs.readFileSync(media)
    bytes[bytes.length >> 1] = (bytes[bytes.length >> 1] as number) ^ 0xff
    fs.writeFileSync(media, bytes)
    await expectRefused(flipped, 'LOA_BACKUP_CORRUPT')

    // The manifest made to agree with the changed byte: the name still tells the content is not that media.
    const renamed = copyTree('renamed')
    const m = manifestOf(renamed)
    fs.writeFileSync(path.join(renamed, 'data', 'media', sha), bytes)
    const { createHash } = await import('node:crypto')
    const entry = m.files.find((f) => f.path === `media/${sha}`) as Manifest['files'][number]
    entry.sha256 = createHash('sha256').update(bytes).digest('hex')
    writeManifest(renamed, m)
    const r = await expectRefused(renamed, 'LOA_BACKUP_CORRUPT')
    expect(r.stderr).toContain('does not match its name')

    const edited = copyTree('edited')
    const e = manifestOf(edited)
    ;(e.files.find((f) => f.path === 'signing/keys.json') as Manifest['files'][number]).size += 1
    writeManifest(edited, e)
    await expectRefused(edited, 'LOA_BACKUP_CORRUPT')

    const dropped = copyTree('dropped')
    fs.rmSync(path.join(dropped, 'data', 'signing', 'keys.json'))
    await expectRefused(dropped, 'LOA_BACKUP_CORRUPT')

    const truncated = path.join(dir, 'truncated.tar')
    const whole = fs.readFileSync(tar())
    fs.writeFileSync(truncated, whole.subarray(0, Math.floor(whole.length * 0.6)))
    await expectRefused(truncated, 'LOA_BACKUP_CORRUPT')

    // A link could point the restored control plane anywhere: refused in a directory and in a tar.
    const linked = copyTree('linked')
    fs.symlinkSync('/etc', path.join(linked, 'data', 'media', 'etc'))
    await expectRefused(linked, 'LOA_BACKUP_CORRUPT')
    const linkedTar = path.join(dir, 'linked.tar')
    execFileSync('tar', ['-cf', linkedTar, '-C', linked, 'manifest.json', 'data'])
    const lt = await expectRefused(linkedTar, 'LOA_BACKUP_CORRUPT')
    expect(lt.stderr).toContain('not a file or directory')

    const newer = copyTree('newer')
    writeManifest(newer, { ...manifestOf(newer), schemaVersion: 10_000 })
    await expectRefused(newer, 'LOA_BACKUP_NEWER_SCHEMA')

    await expectRefused(path.join(dir, 'absent.tar'), 'LOA_BACKUP_NOT_FOUND', 66)
  })

  it('refuses a non-empty target; --force moves its content aside', async () => {
    const target = path.join(dir, 'busy')
    fs.mkdirSync(target)
    fs.writeFileSync(path.join(target, 'keep.txt'), 'giữ lại')
    const r = await runCli(['--json', 'restore', '--from', tar(), '--data-dir', target], { env })
    expect(r.code).toBe(73)
    expect(r.json<{ error: { code: string } }>().error.code).toBe('LOA_BACKUP_TARGET_NOT_EMPTY')
    expect(fs.readdirSync(target)).toEqual(['keep.txt'])

    const f = await runCli(['--json', 'restore', '--from', tar(), '--data-dir', target, '--force'], { env })
    expect(f.code, f.stderr).toBe(0)
    const previous = f.json<{ previous: string }>().previous
    expect(fs.readFileSync(path.join(previous, 'keep.txt'), 'utf8')).toBe('giữ lại')
    expect(fs.existsSync(path.join(target, 'keep.txt'))).toBe(false)
    expect(fs.existsSync(path.join(target, 'loa.db'))).toBe(true)
  })

  it('backup → wipe → restore → start: units, media, users and keys come back over HTTP', async () => {
    await (t as TestPlane).close() // also deletes the data directory
    t = null
    expect(fs.existsSync(path.join(dir, 'data'))).toBe(false)
    const target = path.join(dir, 'data')
    const r = await runCli(['--json', 'restore', '--from', tar(), '--data-dir', target], { env })
    expect(r.code, r.stderr).toBe(0)
    expect(modeOf(target)).toBe(0o700)
    const pem = fs.readdirSync(path.join(target, 'signing')).find((n) => n.endsWith('.pem')) as string
    expect(modeOf(path.join(target, 'signing', pem))).toBe(0o600)

    t = await startTestPlane({ dataDir: target })
    const get = async (url: string) => {
      const res = await fetch(`${(t as TestPlane).cp.httpUrl}${url}`, {
        headers: (t as TestPlane).adminHeaders,
      })
      expect(res.status, url).toBe(200)
      return res
    }
    const units = (await (await get('/api/units')).json()) as { units: { id: string }[] }
    expect(units.units.map((u) => u.id)).toEqual(expect.arrayContaining(['prov', 'xa-a', 'thon-a1', 'xa-b']))
    const media = (await (await get('/api/media')).json()) as { media: { sha256: string }[] }
    expect(media.media.map((m) => m.sha256)).toContain(sha)
    const file = Buffer.from(await (await get(`/media/${sha}`)).arrayBuffer())
    expect(file.equals(fs.readFileSync(path.join(dir, 'loa-dir', 'data', 'media', sha)))).toBe(true)
    const users = (await (await get('/api/users')).json()) as { users: { username: string }[] }
    expect(users.users.map((u) => u.username)).toContain('lan')
    const keys = (await (await get('/api/signing-keys')).json()) as { current: string }
    expect(keys.current).toBe(signingKey)
    const login = await fetch(`${t.cp.httpUrl}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'lan', password: PASSWORD }),
    })
    expect(login.status).toBe(200)
  })
})
