// Shared fixtures for the tests: temporary directories, real audio, test agents. Not used by the agent itself.
// The servers are in servers.ts, the signed messages in messages.ts.
import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { MediaRef } from '@loa/shared'
import { makeTone } from '@loa/testkit'
import pino from 'pino'
import { TEST_KEY } from './messages.js'
import { type MediaServer, startBroker } from './servers.js'

export const silentLog = pino({ level: 'silent' })

export function tmp(prefix = 'loa-agent-'): string {
  return mkdtempSync(join(tmpdir(), prefix))
}

export function sha256(buf: Buffer): string {
  return createHash('sha256').update(buf).digest('hex')
}

/** A real Opus tone of `seconds`, made by ffmpeg. */
export function tone(
  dir: string,
  seconds: number,
  freq = 440,
): { path: string; data: Buffer; sha256: string } {
  const path = makeTone(join(dir, `tone-${freq}-${seconds}.opus`), seconds, freq, {
    args: ['-c:a', 'libopus', '-b:a', '24k'],
  })
  const data = readFileSync(path)
  return { path, data, sha256: sha256(data) }
}

/** A real tone of `seconds` served by `server` at `/media/<sha256>`, as the manifest names it. */
export function servedTone(server: MediaServer, seconds: number, freq = 880): MediaRef {
  const t = tone(tmp('loa-served-tone-'), seconds, freq)
  server.files.set(`/media/${t.sha256}`, t.data)
  return {
    sha256: t.sha256,
    size: t.data.length,
    url: `media/${t.sha256}`,
    mime: 'audio/ogg',
    durationMs: seconds * 1000,
  }
}

/** An agent config for tests: real broker, a fresh data directory, short pre- and post-roll, quiet. */
export function testAgentConfig(
  deviceId: string,
  mqttUrl: string,
  extra: Partial<import('../src/config/config.js').AgentConfig> = {},
): import('../src/config/config.js').AgentConfig {
  return {
    deviceId,
    mqtt: { url: mqttUrl },
    controlPlaneUrl: 'http://127.0.0.1:9',
    controlPlaneKey: TEST_KEY,
    topicRoot: 'loa',
    dataDir: tmp(),
    output: 'null',
    relay: { driver: 'simulated' },
    prerollMs: 100,
    postrollMs: 100,
    cacheBudgetMb: 10,
    minFreeMb: 0,
    telemetryIntervalS: 3600,
    timezone: 'Asia/Ho_Chi_Minh',
    logLevel: 'silent',
    // The test machine's clock is the reference: its NTP state must not change what the tests see.
    clock: { sync: 'trusted', jumpThresholdMs: 1000 },
    // A 1 MiB disk reserve, not 16: a test run starts hundreds of agents in the machine's temp directory.
    storage: { dbBudgetMb: 200, playRetentionDays: 30, reserveMb: 1, keepDamaged: 2, diskCheckS: 30 },
    ...extra,
  }
}

/** A started agent (on its own broker) serving the technician page on a real port, for tests over real HTTP. */
export async function startLocalPage(
  deviceId: string,
  passwordHash: string,
  opts: Partial<import('../src/technician/server.js').LocalServerOptions> = {},
): Promise<{
  agent: import('../src/agent.js').Agent
  app: import('fastify').FastifyInstance
  base: string
  close: () => Promise<void>
}> {
  const { Agent } = await import('../src/agent.js')
  const { buildLocalServer } = await import('../src/technician/server.js')
  const broker = await startBroker()
  const agent = new Agent(testAgentConfig(deviceId, broker.url, { technician: { passwordHash } }), silentLog)
  await agent.start()
  const app = await buildLocalServer({ agent, log: silentLog, webDir: tmp(), ...opts })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
  return {
    agent,
    app,
    base,
    async close() {
      await app.close()
      await agent.stop()
      await broker.close()
    },
  }
}
