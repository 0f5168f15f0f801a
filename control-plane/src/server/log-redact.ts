/**
 * Secrets never reach the logs: pino replaces these paths wherever a logger (or a child of it) writes them. Covers
 * headers as Fastify's serializers and ad-hoc `log.info({ headers })` put them, and credential fields of bodies.
 */
const FIELDS = [
  'password',
  'currentPassword',
  'newPassword',
  'secret',
  'token',
  'apiToken',
  'authorization',
  'cookie',
]
export const REDACT_PATHS: string[] = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  'headers["set-cookie"]',
  '*.headers.authorization',
  '*.headers.cookie',
  '*.headers["set-cookie"]',
  ...FIELDS,
  ...FIELDS.map((f) => `*.${f}`),
  ...FIELDS.map((f) => `*.*.${f}`),
]

export const REDACT = { paths: REDACT_PATHS, censor: '[redacted]' }
