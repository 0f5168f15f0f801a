import type { FastifyRequest } from 'fastify'
import { type Actor, SYSTEM_ACTOR } from './actor.js'

/** The request's actor; the system actor when no authentication hook set one (tests, in-process callers). */
export function actorOf(req: FastifyRequest): Actor {
  return (req as { actor?: Actor }).actor ?? SYSTEM_ACTOR
}
