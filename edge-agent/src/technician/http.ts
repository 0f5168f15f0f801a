import type { FastifyReply } from 'fastify'
import { type AgentErrorCode, AgentErrorCodes } from '../errors.js'

/** Every error of the technician page's API: a stable code, the English text, and details where useful. */
export function sendError(reply: FastifyReply, status: number, code: AgentErrorCode, extra: object = {}) {
  return reply.status(status).send({ code, message: AgentErrorCodes[code], ...extra })
}
