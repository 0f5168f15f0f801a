import { type ChildProcess, spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { verifyPassword } from '@loa/shared/password-hash'
import { waitFor } from '@loa/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TestPlane } from '../../../control-plane/test-kit/test-helpers.js'
import { CLI_MAIN, modeOf, runCli, writeFile } from '../../test-kit/cli.js'
import { startDevicesPlane } from '../../test-kit/devices-plane.js'

const REPO = path.resolve(path.dirname(CLI_MAIN), '..', '..', '..')
const AGENT_MAIN = path.join(REPO, 'edge-agent', 'dist', 'main.js')
const FIRSTBOOT = path.join(REPO, 'firmware-images', 'loa-firstboot.mjs')

interface Provisioned {
  devices: {
    id: string
    dir: string
    agentConfig: string
    bootFile: string
    technicianPasswordFile: string
    qr: string[]
  }[]
  failed: unknown[]
}

/** A box's life: provisioned (one, or many from CSV), rotated and revoked, installed at first boot, tested live. */
describe('loa devices', { timeout: 180_000 }, () => {
  let t: TestPlane
  let dir: string
  let out: string
  let env: Record<string, string>
  let close: (() => Promise<void>) | undefined
  const agents: ChildProcess[] = []
  const loa = (...args: string[]) => runCli(['--api', t.cp.httpUrl, ...args], { env })
  const hw = () => ['--mqtt-url', t.cp.mqttUrl, '--relay', 'simulated', '--output', 'null']
  const clusters = async () =>
    (await t.api<{ clusters: { id: string }[] }>('GET', '/api/clusters')).body.clusters

  beforeAll(async () => {
    ;({ t, dir, out, env, close } = await startDevicesPlane())
  })
  afterAll(async () => {
    for (const a of agents) a.kill('SIGKILL')
    await close?.()
  })

  it('provisions one device: cluster, credentials, pinned key, files 0600, technician password shown once, QR', async () => {
    const r = await loa(
      'devices',
      'provision',
      '--id',
      'qt-0001',
      '--unit',
      '19345',
      '--name',
      'Cụm loa chợ',
      '--zones',
      'cho:Chợ,truong:Trường',
      '--out',
      out,
      '--qr',
      ...hw(),
    )
    expect(r.code, r.stderr).toBe(0)
    const password = /technician password \(shown once\): (\S+)/.exec(r.stdout)?.[1] as string
    expect(password).toMatch(/^[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}$/)

    const devDir = path.join(out, 'qt-0001')
    const config = JSON.parse(fs.readFileSync(path.join(devDir, 'agent.json'), 'utf8'))
    const keys = (
      await t.api<{ current: string; keys: { keyId: string; publicKey: string }[] }>(
        'GET',
        '/api/signing-keys',
      )
    ).body
    const current = keys.keys.find((k) => k.keyId === keys.current)
    expect(config).toMatchObject({
      deviceId: 'qt-0001',
      mqtt: { url: t.cp.mqttUrl, username: 'qt-0001', password: expect.any(String) },
      controlPlaneUrl: t.cp.httpUrl,
      controlPlaneKey: { keyId: current?.keyId, publicKey: current?.publicKey },
      zones: [
        { id: 'cho', label: 'Chợ', relay: { driver: 'simulated' } },
        { id: 'truong', label: 'Trường', relay: { driver: 'simulated' } },
      ],
    })
    // Only the hash of the technician's password is in the config, and it matches what was printed.
    expect(JSON.stringify(config)).not.toContain(password)
    expect(await verifyPassword(password, config.technician.passwordHash)).toBe(true)
    expect(fs.readFileSync(path.join(devDir, 'technician-password.txt'), 'utf8')).toContain(password)
    for (const f of ['agent.json', 'technician-password.txt', 'boot/loa-firstboot.json']) {
      expect(modeOf(path.join(devDir, f)), f).toBe(0o600)
    }
    expect(modeOf(devDir)).toBe(0o700)
    const svg = fs.readFileSync(path.join(devDir, 'qr.svg'), 'utf8')
    expect(svg).toContain('<svg')
    expect(fs.readFileSync(path.join(devDir, 'qr.png')).subarray(1, 4).toString()).toBe('PNG')
    // The boot bundle carries the same agent.json.
    const boot = JSON.parse(fs.readFileSync(path.join(devDir, 'boot', 'loa-firstboot.json'), 'utf8'))
    expect(JSON.parse(boot.files['agent.json'])).toEqual(config)

    const show = await loa('--json', 'devices', 'show', 'qt-0001')
    expect(show.code).toBe(0)
    expect(show.json()).toMatchObject({
      id: 'qt-0001',
      unitId: '19345',
      credentials: { state: 'active', generation: 1 },
    })
    expect((await t.api('GET', '/api/clusters/qt-0001')).body).toMatchObject({
      zones: [
        { id: 'cho', name: 'Chợ' },
        { id: 'truong', name: 'Trường' },
      ],
    })

    // Provisioning the same id again is refused and changes nothing.
    const again = await loa(
      'devices',
      'provision',
      '--id',
      'qt-0001',
      '--unit',
      '19345',
      '--out',
      path.join(dir, 'x'),
      ...hw(),
    )
    expect(again.code).toBe(65)
    expect(again.stderr).toContain('already provisioned')
  })

  it('many from CSV: a bad row provisions nothing; fixed, all are provisioned', async () => {
    const bad = writeFile(
      dir,
      'bad.csv',
      `id,unit,name,zones,lat,lon
qt-0101,19345,Cụm 1,,16.9,107.1
qt-0102,99999,Cụm 2,,,
qt-0103,19346,Cụm 3,BAD ZONE,,
qt-0101,19346,Cụm 4,,,
qt-0105,19346,Cụm 5,,95,
`,
    )
    const before = await clusters()
    const r = await loa('--json', 'devices', 'provision', '--csv', bad, '--out', out, ...hw())
    expect(r.code).toBe(65)
    const problems = r.json<{ error: { details: { problems: { line: number; message: string }[] } } }>().error
      .details.problems
    expect(problems.map((p) => p.line)).toEqual([3, 4, 5, 6])
    expect(problems[0]?.message).toContain('no unit with id or code "99999"')
    expect(await clusters()).toEqual(before)
    expect(fs.existsSync(path.join(out, 'qt-0101'))).toBe(false)

    const good = writeFile(
      dir,
      'good.csv',
      `id,unit,name,zones,lat,lon
qt-0101,19345,Cụm 1,,16.9,107.1
qt-0102,19346,Cụm 2,cho:Chợ;ben:Bến,,
qt-0103,45,Cụm 3,,,
`,
    )
    const ok = await loa('--json', 'devices', 'provision', '--csv', good, '--out', out, ...hw())
    expect(ok.code, ok.stderr).toBe(0)
    const doc = ok.json<Provisioned>()
    expect(ok.stderr + ok.stdout).not.toContain('provisioning [')
    expect(doc.devices.map((d) => d.id)).toEqual(['qt-0101', 'qt-0102', 'qt-0103'])
    expect(doc.failed).toEqual([])
    for (const d of doc.devices) {
      expect(modeOf(d.agentConfig)).toBe(0o600)
      expect(modeOf(d.technicianPasswordFile)).toBe(0o600)
    }
    // Passwords are never printed for many devices; each has its own file.
    expect(ok.stdout).not.toMatch(/[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}/)

    const list = await loa('--json', 'devices', 'list', '--unit', '19345')
    expect(list.json<{ devices: { id: string }[] }>().devices.map((d) => d.id)).toEqual([
      'qt-0001',
      'qt-0101',
    ])
    const human = await loa('devices', 'list')
    expect(human.stdout).toContain('qt-0103')
  })

  it('rotate issues new credentials and rewrites agent.json; revoke needs --yes off a terminal', async () => {
    const file = path.join(out, 'qt-0101', 'agent.json')
    const old = JSON.parse(fs.readFileSync(file, 'utf8'))
    const r = await loa('--json', 'devices', 'rotate', 'qt-0101', '--out', out)
    expect(r.code, r.stderr).toBe(0)
    expect(r.json()).toMatchObject({ generation: 2 })
    const next = JSON.parse(fs.readFileSync(file, 'utf8'))
    expect(next.mqtt.password).not.toBe(old.mqtt.password)
    expect(next.technician.passwordHash).toBe(old.technician.passwordHash)
    expect(next.zones).toEqual(old.zones)
    expect(modeOf(file)).toBe(0o600)

    const noYes = await loa('devices', 'revoke', 'qt-0101')
    expect(noYes.code).toBe(64)
    const revoked = await loa('--json', 'devices', 'revoke', 'qt-0101', '--yes')
    expect(revoked.code).toBe(0)
    const show = await loa('--json', 'devices', 'show', 'qt-0101')
    expect(show.json()).toMatchObject({ credentials: { state: 'revoked' } })
    expect((await loa('devices', 'revoke', 'nope', '--yes')).code).toBe(67)
  })

  it('the first-boot script installs the boot file into /etc/loa 0600, removes it and enables the agent', async () => {
    const boot = path.join(dir, 'bootfs')
    const etc = path.join(dir, 'etc-loa')
    fs.mkdirSync(boot)
    fs.copyFileSync(
      path.join(out, 'qt-0102', 'boot', 'loa-firstboot.json'),
      path.join(boot, 'loa-firstboot.json'),
    )
    const calls = path.join(dir, 'calls.txt')
    const fake = writeFile(dir, 'fake-ctl.sh', `#!/bin/sh\necho "$0 $*" >> ${calls}\n`)
    fs.chmodSync(fake, 0o755)
    const r = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn(process.execPath, [FIRSTBOOT], {
        env: {
          PATH: process.env.PATH,
          LOA_BOOT_DIRS: `${path.join(dir, 'nope')}:${boot}`,
          LOA_ETC_DIR: etc,
          LOA_FIRSTBOOT_OWNER: `${process.getuid?.()}:${process.getgid?.()}`,
          LOA_SYSTEMCTL: fake,
          LOA_HOSTNAMECTL: fake,
        },
      })
      let text = ''
      child.stdout.on('data', (d) => {
        text += d
      })
      child.stderr.on('data', (d) => {
        text += d
      })
      child.on('close', (code) => resolve({ code, out: text }))
    })
    expect(r.code, r.out).toBe(0)
    expect(fs.existsSync(path.join(boot, 'loa-firstboot.json'))).toBe(false)
    expect(fs.readFileSync(path.join(etc, 'agent.json'), 'utf8')).toBe(
      fs.readFileSync(path.join(out, 'qt-0102', 'agent.json'), 'utf8'),
    )
    expect(modeOf(path.join(etc, 'agent.json'))).toBe(0o600)
    expect(fs.readFileSync(calls, 'utf8')).toContain('set-hostname loa-qt-0102')
    expect(fs.readFileSync(calls, 'utf8')).toContain('enable loa-agent.service')
  })

  it('test: a real agent with the provisioned config sounds the tone and acknowledges it; revoked it cannot, rotated it can again', async () => {
    const cfg = path.join(out, 'qt-0001', 'agent.json')
    const agentDir = path.join(dir, 'agent-qt-0001')
    fs.mkdirSync(agentDir)
    const agentOpts = {
      env: {
        ...process.env,
        LOA_DATA_DIR: agentDir,
        LOA_LOCAL_PAGE_PORT: '0',
        LOA_LOCAL_PAGE_HOST: '127.0.0.1',
        LOA_PREROLL_MS: '50',
        LOA_POSTROLL_MS: '50',
        LOA_LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'ignore', 'inherit'] as ('ignore' | 'inherit')[],
    }
    const agent = spawn(process.execPath, [AGENT_MAIN, '--config', cfg], agentOpts)
    agents.push(agent)
    await waitFor(
      async () => (await t.api<{ online: boolean }>('GET', '/api/clusters/qt-0001')).body.online,
      30_000,
      'the agent online',
    )
    const r = await loa(
      '--json',
      'devices',
      'test',
      'qt-0001',
      '--zone',
      'cho',
      '--seconds',
      '1',
      '--timeout',
      '60',
    )
    expect(r.code, r.stderr).toBe(0)
    const doc = r.json<{ result: string; acks: { stage: string }[] }>()
    expect(doc.result).toBe('done')
    expect(doc.acks.map((a) => a.stage)).toEqual(expect.arrayContaining(['received', 'playing', 'done']))

    const human = await loa('devices', 'test', 'qt-0001', '--seconds', '1')
    expect(human.code, human.stderr).toBe(0)
    expect(human.stdout).toContain('test done')

    // An unknown zone fails on the device: exit 1 with the reason.
    const bad = await loa('--json', 'devices', 'test', 'qt-0001', '--zone', 'khong-co', '--seconds', '1')
    expect(bad.code).toBe(1)
    expect(bad.json<{ error: { details: { result: string } } }>().error.details.result).toMatch(
      /failed|rejected/,
    )

    // A device that is not running never answers: timeout, exit 75.
    const silent = await loa('devices', 'test', 'qt-0103', '--seconds', '1', '--timeout', '2')
    expect(silent.code).toBe(75)
    expect(silent.stderr).toContain('no final acknowledgement')
    // Usage errors.
    expect((await loa('devices', 'test', 'qt-0001', '--seconds', '99')).code).toBe(64)

    // Revoked: the broker drops the box at once and refuses it; the test gets no answer.
    expect((await loa('devices', 'revoke', 'qt-0001', '--yes')).code).toBe(0)
    const connected = async () =>
      (await t.api<{ connected?: boolean }>('GET', '/api/clusters/qt-0001/credentials')).body.connected
    await waitFor(async () => (await connected()) === false, 30_000, 'the revoked box disconnected')
    const cut = await loa('devices', 'test', 'qt-0001', '--seconds', '1', '--timeout', '4')
    expect(cut.code).toBe(75)

    // Rotated: the box, restarted with the rewritten agent.json, is back and answers.
    expect((await loa('devices', 'rotate', 'qt-0001', '--out', out)).code).toBe(0)
    agent.kill('SIGTERM')
    agents.push(spawn(process.execPath, [AGENT_MAIN, '--config', cfg], agentOpts))
    await waitFor(connected, 30_000, 'the box back with its new credentials')
    let back = await loa('devices', 'test', 'qt-0001', '--seconds', '1', '--timeout', '20')
    // Connected a moment before it subscribed: a command sent in between is lost, so ask once more.
    if (back.code === 75) back = await loa('devices', 'test', 'qt-0001', '--seconds', '1', '--timeout', '20')
    expect(back.code, back.stderr).toBe(0)
  })
})
