import type { NowPlaying } from '@loa/shared'
import { type Clock, monotonicMs, systemClock } from '../clock/clock.js'
import { ItemPlayer, iso, type Report, reportBase, sleep } from '../playback/item-player.js'
import { PlayLog } from '../playback/play-log.js'
import type { QueuedOccurrence } from './arbiter.js'
import { type Current, CurrentPlay } from './current-play.js'
import { Fallback } from './fallback.js'
import { OccurrenceQueue } from './occurrence-queue.js'
import type { SchedulerOptions } from './options.js'
import { afterPreemption, skippedReport } from './preemption.js'

export type { AlertHooks, SchedulerOptions } from './options.js'

/**
 * Evaluates the schedule locally (in the desired state's time zone), so the cluster keeps its programme for days
 * without the control plane, and arbitrates between occurrences, alerts and the fallback programme: a higher band
 * stops the item playing at once (the amplifier held on), and the interrupted entry then follows its `onPreempt`.
 */
export class Scheduler {
  /** The play log: a full disk keeps plays in memory until there is room (playback/play-log.ts). */
  readonly plays: PlayLog
  private readonly queue: OccurrenceQueue
  private readonly fallback: Fallback
  private stopped = false
  private readonly stopAbort = new AbortController()
  private readonly playing = new CurrentPlay(this.stopAbort.signal)
  /** The occurrence being played; `withdrawn` is set when its alert is withdrawn (no further item plays). */
  private occ: { q: QueuedOccurrence; withdrawn: boolean } | null = null
  private loop: Promise<void> | null = null
  private ticker: NodeJS.Timeout | null = null
  private wake: (() => void) | null = null
  private readonly grace: number
  private readonly tickMs: number
  private readonly items: ItemPlayer
  private parts = 0
  private started = false
  private readonly clock: Clock
  /** When the last tick ran, monotonic ms (the watchdog stops pinging systemd when this gets old). */
  lastTickAt = monotonicMs()

  constructor(private readonly o: SchedulerOptions) {
    this.clock = o.clock ?? systemClock
    this.plays = new PlayLog(o.db, o.outbox, o.storage)
    this.queue = new OccurrenceQueue({
      plays: this.plays,
      db: o.db,
      outbox: o.outbox,
      cache: o.cache,
      log: o.log,
      desired: o.desired,
      defaultTimezone: o.defaultTimezone,
      late: o.lateToleranceMs ?? 60_000,
      clock: this.clock,
    })
    this.fallback = new Fallback(o.cache, o.desired, (d) => this.queue.source.tz(d))
    this.items = new ItemPlayer({
      cache: o.cache,
      outbox: o.outbox,
      player: o.player,
      clock: this.clock,
      onCorrupt: o.onCorrupt,
      durationOf: (sha) =>
        o.desired()?.media.find((m) => m.sha256 === sha)?.durationMs ?? o.durationOf?.(sha),
    })
    this.grace = o.graceMs ?? 600_000
    this.tickMs = o.tickMs ?? 200
  }

  get nowPlaying(): NowPlaying | null {
    return this.items.current?.np ?? this.o.liveHooks?.nowPlaying() ?? null
  }

  /** How long the item playing has been playing (monotonic), null when none is (or it is a live relay's turn). */
  playingForMs(): number | null {
    const c = this.items.current
    return c ? monotonicMs() - c.sinceMono : null
  }

  start(): void {
    this.started = true
    this.queue.restore()
    this.loop = this.run()
    this.ticker = setInterval(() => this.tick(), this.tickMs)
  }

  /** Stops playback (the current item is reported interrupted), turns the amplifier off and writes the reports. */
  async stop(): Promise<void> {
    this.stopped = true
    if (this.ticker) clearInterval(this.ticker)
    this.stopAbort.abort()
    this.playing.abort()
    this.wake?.()
    await this.loop
    await this.o.ampSwitch.set(false)
    this.plays.write(() => this.queue.persist())
  }

  /** A new desired state: wake up, and forget fallback failures of the old one. */
  desiredChanged(): void {
    this.fallback.reset()
    this.queue.takeRecent()
    this.wake?.()
  }

  /** Queues an alert occurrence (its media ready) or a live relay's turn; it preempts lower bands at once. */
  enqueueAlert(q: QueuedOccurrence): void {
    this.queue.add(q)
    // Before start() the cursor is not restored yet: tick() would collect from the epoch.
    if (this.started && !this.stopped) this.tick()
  }

  /** Never plays (more of) an alert: removes it from the queue and stops it if it is playing. */
  withdrawAlert(alertId: string, reason: string): void {
    this.queue.removeAlert(alertId)
    if (this.occ?.q.alert?.alertId === alertId) this.occ.withdrawn = true
    this.playing.interruptIf((q) => q.alert?.alertId === alertId, reason)
  }

  /** Never plays (more of) a live relay: removes its turn from the queue and stops it if it is playing. */
  withdrawLive(liveId: string, reason: string): void {
    this.queue.removeLive(liveId)
    this.playing.interruptIf((q) => q.live?.liveId === liveId, reason)
  }

  private tick(): void {
    const now = this.clock.now()
    this.lastTickAt = monotonicMs()
    this.queue.collect(now + this.o.prerollMs)
    const c = this.playing.current
    if (c && !c.interrupt) {
      // The amplifier is already on: no pre-roll needed, so the item playing is cut at the preemptor's instant.
      const p = this.queue.arbiter.preemptor(c, now, 0)
      if (p) {
        c.interrupt = { kind: 'preempt', reason: `preempted by ${p.title} (band ${p.priority})` }
        c.abort.abort()
      }
    }
    if (this.queue.arbiter.peekDue(now, this.o.prerollMs)) this.wake?.()
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const now = this.clock.now()
      this.queue.collect(now + this.o.prerollMs)
      try {
        const arb = this.queue.arbiter
        const due = arb.peekDue(now, this.o.prerollMs)
        if (
          due &&
          !due.live &&
          !this.fallback.has(now) &&
          !due.items.some((sha) => this.o.cache.isReady(sha))
        ) {
          // Nothing of it can play: report it without switching the amplifier on for silence.
          arb.popDue(now, this.o.prerollMs)
          this.queue.skipUnplayable(due)
          const a = due.alert
          if (a) this.hook(() => this.o.alertHooks?.finished(a, 0, ['media unavailable']))
        } else if (due || this.fallback.has(now)) await this.session()
        else {
          // Sleep until the next occurrence's amplifier-on instant (at most one tick), not a whole tick past it:
          // a coarse tick alone would add up to tickMs of lateness to every start.
          this.queue.collect(now + this.o.prerollMs + this.tickMs)
          const soon = arb.soonest()
          const untilDue = soon ? Date.parse(soon.at) - this.o.prerollMs - now : this.tickMs
          await new Promise<void>((resolve) => {
            this.wake = resolve
            setTimeout(resolve, Math.max(0, Math.min(this.tickMs, untilDue)))
          })
        }
      } catch (err) {
        this.o.log.error({ err }, 'scheduler loop error')
        this.o.storage?.handle(err)
        await sleep(1000)
      }
      this.wake = null
    }
  }

  /** One amplifier-on period: occurrences and fallback items back to back, then post-roll, amplifier off, reports. */
  private async session(): Promise<void> {
    const reports: Report[] = []
    const finished: string[] = []
    await this.o.ampSwitch.set(true)
    const ampOnAt = this.clock.now()
    this.o.log.info('relay on')
    try {
      await this.sessionBody(ampOnAt, reports, finished)
    } finally {
      // Whatever went wrong in between (a bug), the amplifier must not stay on, and what played is reported.
      if (!this.stopped) await sleep(this.o.postrollMs, this.stopAbort.signal)
      await this.o.ampSwitch.set(false)
      this.o.log.info('relay off')
      this.writeReports(reports, finished, ampOnAt, this.clock.now())
    }
  }

  /** An alert hook writes acks: a failure there (a full disk) must not cost the play or its report. */
  private hook(fn: () => void): void {
    try {
      fn()
    } catch (err) {
      this.o.log.error({ err }, 'alert hook failed')
      this.o.storage?.handle(err)
    }
  }

  private async sessionBody(ampOnAt: number, reports: Report[], finished: string[]): Promise<void> {
    const arb = this.queue.arbiter
    while (!this.stopped) {
      const now = this.clock.now()
      this.queue.collect(now + this.o.prerollMs)
      const q = arb.popDue(now, this.o.prerollMs)
      if (q) {
        if (this.queue.pastGrace(q, now, this.grace)) continue
        this.occ = { q, withdrawn: false }
        try {
          await this.playOccurrence(q, ampOnAt, reports)
        } finally {
          this.occ = null
        }
        finished.push(q.key)
        continue
      }
      const fb = this.fallback.next(now)
      if (fb) {
        // The fallback may hold the amplifier on for hours: report what has finished now rather than at amplifier off.
        this.writeReports(reports, finished, ampOnAt, null)
        const r = await this.playItem(null, fb, this.fallback.volume(), ampOnAt)
        reports.push(r.report)
        if (r.undecodable) this.fallback.markBad(fb)
        continue
      }
      // Hold the amplifier on if the next play starts within the post-roll.
      this.queue.collect(now + this.o.postrollMs + this.o.prerollMs)
      const soon = arb.soonest()
      if (soon && Date.parse(soon.at) <= now + this.o.postrollMs) {
        await sleep(Date.parse(soon.at) - this.o.prerollMs - now, this.stopAbort.signal)
        continue
      }
      break
    }
  }

  /** Play log + outbox + pending queue in one transaction (or in memory, disk full); empties both lists. */
  private writeReports(
    reports: Report[],
    finished: string[],
    ampOnAt: number,
    ampOffAt: number | null,
  ): void {
    if (reports.length === 0 && finished.length === 0) return
    this.plays.write(() => {
      for (const r of reports) {
        this.plays.record({
          ...r,
          // Play report fields (a contract): the amplifier switch times.
          relayOnAt: iso(ampOnAt),
          relayOffAt: ampOffAt === null ? null : iso(ampOffAt),
        })
      }
      this.queue.finished(finished)
      this.queue.persist()
    })
    reports.length = 0
    finished.length = 0
  }

  private async playOccurrence(q: QueuedOccurrence, ampOnAt: number, reports: Report[]): Promise<void> {
    if (q.live) return this.playLive(q, ampOnAt, reports)
    // The audio starts at the scheduled instant, and never before the pre-roll has passed.
    const audioAt = Math.max(Date.parse(q.at), ampOnAt + this.o.prerollMs)
    this.o.log.info({ key: q.key, items: q.items.length }, 'occurrence starting')
    let played = 0
    const failures: string[] = []
    for (let i = 0; i < q.items.length; i++) {
      const sha = q.items[i] as string
      if (this.occ?.withdrawn) return
      if (this.stopped) {
        reports.push(skippedReport(q, sha, 'shutdown'))
        continue
      }
      const offsetMs = i === 0 ? (q.offsetMs ?? 0) : 0
      // Something higher became due between two items: yield before starting the next one.
      const p =
        i > 0
          ? this.queue.arbiter.preemptor({ priority: q.priority, fallback: false }, this.clock.now(), 0)
          : undefined
      if (p) {
        const report = skippedReport(q, sha)
        const reason = `preempted by ${p.title} (band ${p.priority})`
        this.preempted(q, i, 0, { report, started: false }, reason, reports)
        return
      }
      const r = await this.playItem(q, sha, q.volume, ampOnAt, audioAt, offsetMs)
      const int = r.interrupt
      if (int?.kind === 'preempt' && !this.stopped) {
        this.preempted(q, i, offsetMs, r, int.reason, reports)
        return
      }
      if (int?.kind === 'withdrawn') {
        if (r.started) reports.push(r.report)
        return
      }
      reports.push(r.report)
      if (r.report.status === 'played') played++
      else if (r.report.status !== 'interrupted') failures.push(r.report.reason ?? r.report.status)
    }
    const a = q.alert
    if (a && !this.stopped) this.hook(() => this.o.alertHooks?.finished(a, played, failures))
  }

  /** A higher band stopped item `i` of `q`: report it, then follow the entry's `onPreempt` (preemption.ts). */
  private preempted(
    q: QueuedOccurrence,
    i: number,
    offsetMs: number,
    r: { report: Report; started: boolean },
    reason: string,
    reports: Report[],
  ): void {
    const out = afterPreemption(q, i, offsetMs, r, reason, () => ++this.parts)
    reports.push(...out.reports)
    const { policy, requeue, resumeAt } = out
    if (!requeue) {
      this.o.log.info({ key: q.key }, 'preempted: dropped')
      return
    }
    this.plays.write(() => {
      this.queue.add(requeue)
      this.queue.persist()
    })
    this.o.log.info({ key: q.key, policy, resumeAt }, 'preempted: queued again')
  }

  /** A live relay's turn: the live manager plays its connection until it ends, drops or is interrupted. */
  private async playLive(q: QueuedOccurrence, ampOnAt: number, reports: Report[]): Promise<void> {
    const hooks = this.o.liveHooks
    if (!hooks) return
    const report = await this.playing.run(q, q.priority, (c) =>
      hooks.play(q, {
        notBefore: Math.max(Date.parse(q.at), ampOnAt + this.o.prerollMs),
        signal: c.abort.signal,
        interrupt: () => (this.stopped ? { kind: 'shutdown', reason: 'shutdown' } : c.interrupt),
      }),
    )
    if (report) reports.push(report)
  }

  /** Plays one item; it can be interrupted by preemption, withdrawal (alerts) or shutdown. */
  private async playItem(
    q: QueuedOccurrence | null,
    sha: string,
    volume: number,
    ampOnAt: number,
    notBefore = 0,
    offsetMs = 0,
  ): Promise<{ report: Report; undecodable: boolean; started: boolean; interrupt: Current['interrupt'] }> {
    let started = false
    return this.playing.run(q, reportBase(q, sha).priority, async (c) => {
      const { report, undecodable } = await this.items.play({
        q,
        sha,
        volume,
        notBefore: Math.max(notBefore, ampOnAt + this.o.prerollMs),
        signal: c.abort.signal,
        reason: () => (this.stopped ? 'shutdown' : (c.interrupt?.reason ?? 'preempted')),
        offsetMs,
        onStart: () => {
          started = true
          const a = q?.alert
          if (a) this.hook(() => this.o.alertHooks?.started(a))
        },
      })
      return { report, undecodable, started, interrupt: this.stopped ? null : c.interrupt }
    })
  }
}
