import type { FastifyReply, FastifyRequest } from 'fastify'
import type { App } from '../context.js'
import type { AlertCounts } from './model.js'

export interface CountsStreamOptions {
  throttleMs: number
  lingerMs: number
  /** The id field of every event, e.g. `alertId`. */
  idField: string
  /** The thing's state (`active` until withdrawn, stopped, expired or ended), revision and counts. */
  view(id: string): Promise<{ state: string; revision: number; counts: AlertCounts }>
  watch(id: string, fn: () => void): () => void
  /** Stages after which a target will not move again (a live relay's `failed` is retried, so not final). */
  finalStages?: readonly ('done' | 'failed' | 'cancelled' | 'expired')[]
}

const ALL_FINAL = ['done', 'failed', 'cancelled', 'expired'] as const

/**
 * Server-Sent Events of acknowledgement counts (alerts, live relays): `counts` at once and whenever acks move them
 * (at most one event per throttle interval), then `end` once every target is final, or `lingerMs` after the thing
 * stopped being active so the last acks still show. Open streams are ended before the server closes.
 */
export function countsStreams(app: App, o: CountsStreamOptions) {
  const finalStages = o.finalStages ?? ALL_FINAL
  const allFinal = (c: AlertCounts) => finalStages.reduce((n, st) => n + c[st], 0) === c.targeted
  const open = new Set<() => void>()
  app.addHook('preClose', async () => {
    for (const finish of [...open]) finish()
  })

  return (id: string, req: FastifyRequest, reply: FastifyReply): void => {
    reply.hijack()
    const res = reply.raw
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    })
    let closed = false
    let timer: NodeJS.Timeout | null = null
    let linger: NodeJS.Timeout | null = null
    let last = 0
    let seq = 0
    const end = (reason: string) => {
      res.write(`event: end\ndata: ${JSON.stringify({ [o.idField]: id, reason })}\n\n`)
      finish()
    }
    const finish = () => {
      if (closed) return
      closed = true
      open.delete(finish)
      unwatch()
      if (timer) clearTimeout(timer)
      if (linger) clearTimeout(linger)
      clearInterval(keepAlive)
      res.end()
    }
    const send = async () => {
      timer = null
      if (closed) return
      last = Date.now()
      try {
        const v = await o.view(id)
        if (closed) return
        const data = { [o.idField]: id, state: v.state, revision: v.revision, counts: v.counts }
        res.write(`id: ${++seq}\nevent: counts\ndata: ${JSON.stringify(data)}\n\n`)
        if (allFinal(v.counts)) end('all-final')
        else if (v.state !== 'active' && !linger) linger = setTimeout(() => end(v.state), o.lingerMs)
      } catch (err) {
        req.log.warn({ err, [o.idField]: id }, 'counts stream failed')
        finish()
      }
    }
    const schedule = () => {
      if (closed || timer) return
      timer = setTimeout(() => void send(), Math.max(0, last + o.throttleMs - Date.now()))
    }
    const unwatch = o.watch(id, schedule)
    // A comment line keeps proxies from closing an idle stream.
    const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000)
    open.add(finish)
    req.raw.on('close', finish)
    schedule()
  }
}
