#!/usr/bin/env node
import pino from 'pino'
import { Agent } from './agent.js'
import { loadConfig } from './config/config.js'
import { AgentError } from './errors.js'
import { startAgentWatchdog } from './health/agent-watchdog.js'
import { recordCrash } from './health/run-marker.js'
import { LogRing } from './technician/log.js'
import { startLocalServer } from './technician/server.js'

/** Entry point: `node dist/main.js [--config agent.json]`. Exit 2 on bad config, 0 on SIGTERM/SIGINT. */
async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>
  try {
    config = loadConfig(process.argv.slice(2), process.env)
  } catch (err) {
    if (err instanceof AgentError && err.code === 'LOA_CONFIG_INVALID') {
      process.stderr.write(`config error: ${err.details.join('; ')}\n`)
      process.exit(2)
    }
    throw err
  }
  // Log lines also go to a ring the technician's page shows.
  const ring = new LogRing()
  const log = pino(
    { level: config.logLevel, base: { deviceId: config.deviceId } },
    pino.multistream([
      { level: 'trace', stream: process.stdout },
      { level: 'info', stream: ring },
    ]),
  )
  const agent = new Agent(config, log)
  let stopping = false
  let page: Awaited<ReturnType<typeof startLocalServer>> = null
  const shutdown = (signal: string) => {
    if (stopping) return
    stopping = true
    log.info({ signal }, 'shutting down')
    const force = setTimeout(() => {
      agent.box.offSync()
      process.exit(1)
    }, 10_000)
    Promise.resolve(page?.close())
      .catch(() => {})
      .then(() => agent.stop())
      .then(() => {
        clearTimeout(force)
        process.exit(0)
      })
      .catch((err) => {
        log.error({ err }, 'shutdown failed')
        agent.box.offSync()
        process.exit(1)
      })
  }
  // A bug must not leave a half-working agent: log it, exit non-zero, let systemd restart us (the outbox and the
  // scheduler cursor make the restart lossless).
  // A damaged database: exit at once (amplifier off) and let systemd start us again in 3 s; that start moves the
  // file aside and recovers (storage/recovery.ts). Nothing is written to the damaged file on the way out.
  agent.onStorageCorrupt = () => {
    agent.box.offSync()
    process.exit(1)
  }
  const fatal = (err: unknown) => {
    // A storage fault is handled where it belongs (storage/guard.ts): a damaged database exits through
    // onStorageCorrupt above, a full disk never stops the agent.
    if (agent.storage.handle(err)) return
    log.fatal({ err }, 'uncaught error')
    recordCrash(agent.db, err)
    // The amplifier must not stay on through the restart (sysfs lines keep their value after we die).
    agent.box.offSync()
    process.exit(1)
  }
  process.on('uncaughtException', fatal)
  process.on('unhandledRejection', fatal)
  process.on('SIGTERM', () => shutdown('SIGTERM'))
  process.on('SIGINT', () => shutdown('SIGINT'))
  await agent.start()
  page = await startLocalServer(agent, log, ring)
  const watchdog = startAgentWatchdog(agent, process.env, log)
  process.once('exit', () => watchdog?.stop())
}

main().catch((err) => {
  process.stderr.write(`fatal: ${err instanceof Error ? err.stack : String(err)}\n`)
  process.exit(1)
})
