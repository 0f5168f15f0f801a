import { spawn } from 'node:child_process'
import { X509Certificate } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TestPlane } from '../../../control-plane/test-kit/test-helpers.js'
import { CLI_MAIN, modeOf, runCli, writeFile } from '../../test-kit/cli.js'
import { startDevicesPlane } from '../../test-kit/devices-plane.js'

/** `loa devices` beyond the plain flow (devices.test.ts): progress on a terminal, TLS material, usage errors. */
describe('loa devices: terminal, TLS, usage', { timeout: 180_000 }, () => {
  let t: TestPlane
  let dir: string
  let out: string
  let env: Record<string, string>
  let close: (() => Promise<void>) | undefined
  const loa = (...args: string[]) => runCli(['--api', t.cp.httpUrl, ...args], { env })
  const hw = () => ['--mqtt-url', t.cp.mqttUrl, '--relay', 'simulated', '--output', 'null']

  beforeAll(async () => {
    ;({ t, dir, out, env, close } = await startDevicesPlane())
  })
  afterAll(async () => {
    await close?.()
  })

  it('shows a progress bar on a terminal (script(1) gives it one), never in pipes', async () => {
    const csv = writeFile(dir, 'tty.csv', 'id,unit\nqt-0301,19345\nqt-0302,19345\nqt-0303,19346\n')
    const args = [
      process.execPath,
      CLI_MAIN,
      '--api',
      t.cp.httpUrl,
      'devices',
      'provision',
      '--csv',
      csv,
      '--out',
      out,
      ...hw(),
    ]
    const text = await new Promise<string>((resolve) => {
      const child = spawn('script', ['-qec', args.join(' '), '/dev/null'], {
        env: { ...process.env, ...env },
      })
      let all = ''
      child.stdout.on('data', (d) => {
        all += d
      })
      child.on('close', () => resolve(all))
    })
    expect(text).toContain('provisioning [')
    expect(text).toContain('3/3')
    expect(text).toContain('provisioned 3/3')
  })

  it('with --ca and --client-cert the box gets the province CA and its own client certificate', async () => {
    const ca = path.join(dir, 'ca')
    expect((await loa('ca', 'init', '--dir', ca, '--province', 'Quảng Trị')).code).toBe(0)
    const r = await loa(
      '--json',
      'devices',
      'provision',
      '--id',
      'qt-0201',
      '--unit',
      '19346',
      '--out',
      out,
      '--ca',
      ca,
      '--client-cert',
      '--relay',
      'simulated',
      '--output',
      'null',
      '--device-api-url',
      'https://loa.example.vn',
    )
    expect(r.code, r.stderr).toBe(0)
    const devDir = path.join(out, 'qt-0201')
    const config = JSON.parse(fs.readFileSync(path.join(devDir, 'agent.json'), 'utf8'))
    expect(config.mqtt.url).toBe('mqtts://loa.example.vn:8883')
    expect(config.tls).toEqual({
      caFile: '/etc/loa/ca.crt',
      certFile: '/etc/loa/client.crt',
      keyFile: '/etc/loa/client.key',
    })
    const caCert = new X509Certificate(fs.readFileSync(path.join(ca, 'ca.crt')))
    const client = new X509Certificate(fs.readFileSync(path.join(devDir, 'client.crt')))
    expect(client.subject).toContain('CN=qt-0201')
    expect(client.verify(caCert.publicKey)).toBe(true)
    expect(modeOf(path.join(devDir, 'client.key'))).toBe(0o600)
    const boot = JSON.parse(fs.readFileSync(path.join(devDir, 'boot', 'loa-firstboot.json'), 'utf8'))
    expect(Object.keys(boot.files).sort()).toEqual(['agent.json', 'ca.crt', 'client.crt', 'client.key'])
    expect(
      (await loa('devices', 'provision', '--id', 'x1', '--unit', '45', '--out', out, '--client-cert')).code,
    ).toBe(64)
  })

  it('usage errors and an unreachable control plane', async () => {
    expect((await loa('devices', 'provision', '--out', out)).code).toBe(64)
    expect(
      (await loa('devices', 'provision', '--id', 'a', '--csv', 'b', '--unit', 'u', '--out', out)).code,
    ).toBe(64)
    const down = await runCli(['--api', 'http://127.0.0.1:9', 'devices', 'list'], { env })
    expect(down.code).toBe(69)
    const noApi = await runCli(['devices', 'list'], { env })
    expect(noApi.code).toBe(64)
  })
})
