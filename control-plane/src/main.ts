#!/usr/bin/env node
import pino from 'pino'
import { parseApiToken } from './access/api-tokens.js'
import { ConfigError, loadConfigFromEnv } from './config.js'
import { createControlPlane } from './index.js'
import { REDACT } from './server/log-redact.js'
import { BackupError } from './storage/backup-files.js'
import { cloudEnginesFromEnv } from './tts/cloud.js'
import { EspeakEngine } from './tts/speech.js'

async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfigFromEnv>
  try {
    config = loadConfigFromEnv()
    if (process.env.LOA_BOOTSTRAP_TOKEN && !parseApiToken(process.env.LOA_BOOTSTRAP_TOKEN)) {
      throw new ConfigError(
        'LOA_BOOTSTRAP_TOKEN',
        'expected loa_<id>_<secret> (id a-z0-9, secret 32+ base64url chars)',
      )
    }
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`loa-control-plane: invalid configuration: ${err.message}\n`)
      process.exit(2)
    }
    throw err
  }
  const logger = pino({ level: config.logLevel, base: { service: 'loa-control-plane' }, redact: REDACT })
  let ttsEngines: ReturnType<typeof cloudEnginesFromEnv>
  try {
    ttsEngines = cloudEnginesFromEnv()
  } catch (err) {
    process.stderr.write(`loa-control-plane: invalid configuration: ${(err as Error).message}\n`)
    process.exit(2)
  }
  const cp = await createControlPlane({
    ...config,
    logger,
    ttsEngines: [new EspeakEngine(), ...ttsEngines],
    ttsDefaultVoice: process.env.LOA_TTS_DEFAULT_VOICE || undefined,
    bootstrapToken: process.env.LOA_BOOTSTRAP_TOKEN || undefined,
  }).catch((err: unknown) => {
    // No pre-migration backup, no migration: say why in one line; the old database is untouched.
    if (err instanceof BackupError) {
      logger.fatal({ code: err.code }, err.message)
      process.stderr.write(`loa-control-plane: ${err.code}: ${err.message}\n`)
      process.exit(1)
    }
    throw err
  })
  let stopping = false
  const stop = (signal: string) => {
    if (stopping) return
    stopping = true
    logger.info({ signal }, 'shutting down')
    cp.close().then(
      () => process.exit(0),
      (err) => {
        logger.error({ err }, 'shutdown failed')
        process.exit(1)
      },
    )
  }
  process.on('SIGTERM', () => stop('SIGTERM'))
  process.on('SIGINT', () => stop('SIGINT'))
}

main().catch((err) => {
  process.stderr.write(`loa-control-plane: ${(err as Error).stack ?? String(err)}\n`)
  process.exit(1)
})
