/** MQTT control packet kinds the broker's limits tell apart (the fixed header's type nibble). */
export type PacketKind = 'connect' | 'publish' | 'subscribe' | 'unsubscribe' | 'other'

const KINDS: Record<number, PacketKind> = { 1: 'connect', 3: 'publish', 8: 'subscribe', 10: 'unsubscribe' }

/**
 * The largest remaining length (bytes after the fixed header) a packet may declare. For a PUBLISH the policy may
 * answer `null` without the topic: the meter then reads the topic (at most 65,537 bytes) and asks again.
 */
export type PacketLimit = (kind: PacketKind, topic: string | null) => number | null

export interface OversizePacket {
  kind: PacketKind
  /** Remaining length the packet declared. */
  declared: number
  limit: number
  topic: string | null
}

export type MeterVerdict = OversizePacket | { kind: 'malformed'; reason: string }

type Phase = 'type' | 'length' | 'topic' | 'body'

/**
 * Reads the fixed header (type and remaining length) of every packet in a client's byte stream, as the broker is
 * about to parse it, and says when one declares more than its limit. The broker's parser (mqtt-packet) buffers a
 * whole packet before looking at it, so a CONNECT declared as 200 MB is refused here after its first 5 bytes,
 * not after 200 MB. Bodies are skipped, never copied; only a PUBLISH topic the policy asks for is kept.
 */
export class MqttPacketMeter {
  private phase: Phase = 'type'
  private kind: PacketKind = 'other'
  private length = 0
  private multiplier = 1
  private lengthBytes = 0
  /** Bytes still to skip in the current packet. */
  private rest = 0
  private topicHead: Buffer[] = []
  private topicBytes = 0
  private topicTarget = 2
  private failed: MeterVerdict | null = null

  constructor(private readonly limitOf: PacketLimit) {}

  /** Feeds the next bytes of the stream; returns the first packet over its limit (and keeps returning it). */
  feed(chunk: Buffer): MeterVerdict | null {
    let i = 0
    while (i < chunk.length && !this.failed) {
      switch (this.phase) {
        case 'type': {
          this.kind = KINDS[(chunk[i] as number) >> 4] ?? 'other'
          this.length = 0
          this.multiplier = 1
          this.lengthBytes = 0
          this.phase = 'length'
          i++
          break
        }
        case 'length': {
          const b = chunk[i] as number
          i++
          this.length += (b & 0x7f) * this.multiplier
          this.multiplier *= 128
          this.lengthBytes++
          if (b & 0x80) {
            if (this.lengthBytes === 4) this.failed = { kind: 'malformed', reason: 'remaining length' }
            break
          }
          this.headerDone()
          break
        }
        case 'topic': {
          const take = Math.min(chunk.length - i, this.topicTarget - this.topicBytes)
          this.topicHead.push(chunk.subarray(i, i + take))
          this.topicBytes += take
          this.rest -= take
          i += take
          if (this.topicBytes === this.topicTarget) this.topicProgress()
          break
        }
        case 'body': {
          const take = Math.min(chunk.length - i, this.rest)
          i += take
          this.rest -= take
          if (this.rest === 0) this.phase = 'type'
          break
        }
      }
    }
    return this.failed
  }

  private headerDone(): void {
    const limit = this.limitOf(this.kind, null)
    // A PUBLISH too short to hold a topic length is the parser's to refuse: judge it without a topic.
    if (limit !== null || this.length < 2) {
      this.judge(limit ?? 0)
      return
    }
    this.rest = this.length
    this.topicHead = []
    this.topicBytes = 0
    this.topicTarget = 2
    this.phase = 'topic'
  }

  /** The 2-byte topic length, then the topic itself (cut at the packet's end), then the verdict. */
  private topicProgress(): void {
    const head = Buffer.concat(this.topicHead)
    this.topicHead = [head]
    if (this.topicTarget === 2) {
      this.topicTarget = Math.min(2 + head.readUInt16BE(0), this.length)
      if (this.topicTarget > 2) return
    }
    const topic = head.subarray(2).toString('utf8')
    this.topicHead = []
    const limit = this.limitOf(this.kind, topic) ?? 0
    if (this.length > limit) {
      this.failed = { kind: this.kind, declared: this.length, limit, topic }
      return
    }
    this.phase = this.rest > 0 ? 'body' : 'type'
  }

  private judge(limit: number): void {
    if (this.length > limit) {
      this.failed = { kind: this.kind, declared: this.length, limit, topic: null }
      return
    }
    this.rest = this.length
    this.phase = this.rest > 0 ? 'body' : 'type'
  }
}
