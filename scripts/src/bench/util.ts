import mqtt from 'mqtt'

let identity: { username: string; password: string } | undefined

/** The broker identity every bench client uses (the control plane's own: devices may only use their topics). */
export function useBrokerIdentity(id: { username: string; password: string } | undefined): void {
  identity = id
}

export function brokerIdentity(): { username?: string; password?: string } {
  return identity ?? {}
}

/** Subscribes and resolves once `count` messages matching `accept` have arrived; returns elapsed ms from `t0`. */
export async function collector(
  url: string,
  topic: string,
  accept: (topic: string, payload: Buffer) => number,
): Promise<{
  until(count: number, t0: () => number, timeoutMs: number): Promise<number>
  reset(): void
  close(): Promise<void>
}> {
  const client = await mqtt.connectAsync(url, {
    clientId: `bench-sub-${process.pid}-${Math.random()}`,
    reconnectPeriod: 0,
    ...brokerIdentity(),
  })
  let seen = 0
  let target = Number.POSITIVE_INFINITY
  let done: (() => void) | null = null
  client.on('message', (t, p) => {
    seen += accept(t, p)
    if (seen >= target && done) done()
  })
  await client.subscribeAsync(topic, { qos: 1 })
  return {
    reset() {
      seen = 0
    },
    async until(count, t0, timeoutMs) {
      target = count
      if (seen < count) {
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(
            () => reject(new Error(`only ${seen}/${count} messages on ${topic}`)),
            timeoutMs,
          )
          done = () => {
            clearTimeout(timer)
            resolve()
          }
        })
      }
      const elapsed = performance.now() - t0()
      seen = 0
      target = Number.POSITIVE_INFINITY
      done = null
      return elapsed
    },
    close: () => client.endAsync(),
  }
}

export function fmt(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`
}
