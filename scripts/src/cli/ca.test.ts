import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import tls from 'node:tls'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cliEnv, modeOf, runCli } from '../../test-kit/cli.js'

/** A real TLS handshake with what `loa ca` issued: the server proves its name, the device its id. */
async function handshake(
  ca: string,
  server: { key: string; cert: string },
  client: { key: string; cert: string } | null,
): Promise<{ ok: true; peerCn: string } | { ok: false; error: string }> {
  let peerCn = ''
  const srv = tls.createServer(
    {
      key: fs.readFileSync(server.key),
      cert: fs.readFileSync(server.cert),
      ca: fs.readFileSync(ca),
      requestCert: true,
      rejectUnauthorized: true,
    },
    (sock) => {
      peerCn = String(sock.getPeerCertificate().subject?.CN ?? '')
      sock.end('hi')
    },
  )
  srv.on('tlsClientError', () => {})
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))
  const port = (srv.address() as { port: number }).port
  try {
    return await new Promise((resolve) => {
      const sock = tls.connect({
        host: '127.0.0.1',
        port,
        servername: 'loa.example.vn',
        ca: fs.readFileSync(ca),
        ...(client ? { key: fs.readFileSync(client.key), cert: fs.readFileSync(client.cert) } : {}),
      })
      let data = ''
      sock.on('data', (d) => {
        data += d
      })
      sock.on('end', () => resolve(data === 'hi' ? { ok: true, peerCn } : { ok: false, error: 'no data' }))
      sock.on('error', (e) => resolve({ ok: false, error: e.message }))
    })
  } finally {
    srv.close()
  }
}

describe('loa ca', { timeout: 180_000 }, () => {
  let dir: string
  let env: Record<string, string>
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loa-cli-ca-'))
    env = cliEnv().env
  })
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))
  const loa = (...args: string[]) => runCli(args, { env })

  it('creates a CA once, issues server and device certificates that complete a mutual TLS handshake', async () => {
    const ca = path.join(dir, 'ca')
    const init = await loa('--json', 'ca', 'init', '--dir', ca, '--province', 'Quảng Trị')
    expect(init.code).toBe(0)
    expect(init.json()).toMatchObject({ province: 'Quảng Trị', cert: path.join(ca, 'ca.crt') })
    expect(modeOf(path.join(ca, 'ca.key'))).toBe(0o600)

    const again = await loa('ca', 'init', '--dir', ca, '--province', 'Khác')
    expect(again.code).toBe(73)
    expect(again.stderr).toContain('already exists')

    const server = await loa(
      '--json',
      'ca',
      'issue',
      'server',
      '--dir',
      ca,
      '--dns',
      'loa.example.vn',
      '--ip',
      '127.0.0.1',
    )
    expect(server.code).toBe(0)
    const s = server.json<{ key: string; cert: string; ca: string; subjectAltName: string }>()
    expect(s.subjectAltName).toBe('DNS:loa.example.vn, IP Address:127.0.0.1')
    expect(modeOf(s.key)).toBe(0o600)

    const device = await runCli(['--json', 'ca', 'issue', 'device', 'qt-0001'], {
      env: { ...env, LOA_CA_DIR: ca },
    })
    expect(device.code).toBe(0)
    const d = device.json<{ key: string; cert: string; dir: string }>()
    expect(d.dir).toBe(path.join(ca, 'devices', 'qt-0001'))
    expect(modeOf(d.key)).toBe(0o600)

    expect(await handshake(s.ca, s, d)).toEqual({ ok: true, peerCn: 'qt-0001' })
    // Without a device certificate the server refuses the connection.
    expect((await handshake(s.ca, s, null)).ok).toBe(false)
    // A certificate from another province's CA is refused too.
    const other = path.join(dir, 'other')
    expect((await loa('ca', 'init', '--dir', other, '--province', 'Khác')).code).toBe(0)
    const stranger = await loa('--json', 'ca', 'issue', 'device', 'qt-0001', '--dir', other)
    expect((await handshake(s.ca, s, stranger.json())).ok).toBe(false)

    // Re-issuing needs --force.
    const dup = await loa('ca', 'issue', 'device', 'qt-0001', '--dir', ca)
    expect(dup.code).toBe(73)
    expect((await loa('ca', 'issue', 'device', 'qt-0001', '--dir', ca, '--force')).code).toBe(0)
  })

  it('rejects bad names and missing arguments as usage errors', async () => {
    const ca = path.join(dir, 'ca')
    const noNames = await loa('ca', 'issue', 'server', '--dir', ca)
    expect(noNames.code).toBe(64)
    const badDns = await loa('--json', 'ca', 'issue', 'server', '--dir', ca, '--dns', 'a b,c', '--force')
    expect(badDns.code).toBe(64)
    expect(badDns.json<{ error: { code: string } }>().error.code).toBe('LOA_CLI_USAGE')
    expect((await loa('ca', 'issue', 'server', '--dir', ca, '--ip', '300.1.1.1')).code).toBe(64)
    expect((await loa('ca', 'issue', 'device', '../x', '--dir', ca)).code).toBe(64)
    expect((await loa('ca', 'init', '--dir', path.join(dir, 'p'))).code).toBe(64)
    const noCa = await loa('ca', 'issue', 'device', 'x1', '--dir', path.join(dir, 'empty'))
    expect(noCa.code).toBe(66)
  })
})
