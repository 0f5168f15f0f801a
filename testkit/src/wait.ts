/** What a probe's value is once it counts as done. */
export type Truthy<T> = Exclude<T, false | 0 | '' | null | undefined>

/**
 * Polls `probe` until it returns a truthy value and resolves with that value; fails after `timeoutMs`, naming
 * `label`. The probe may be async. A probe that throws counts as "not yet" (a server still starting refuses
 * connections); the last error is quoted in the timeout message. Generous bounds: never used to assert on speed.
 */
export async function waitFor<T>(
  probe: () => T | Promise<T>,
  timeoutMs = 15_000,
  label = 'a condition',
  intervalMs = 50,
): Promise<Truthy<T>> {
  const deadline = Date.now() + timeoutMs
  let lastError: unknown
  for (;;) {
    try {
      const v = await probe()
      if (v) return v as Truthy<T>
    } catch (err) {
      lastError = err
    }
    if (Date.now() > deadline) {
      const why = lastError instanceof Error ? ` (last error: ${lastError.message})` : ''
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${label}${why}`)
    }
    await sleep(intervalMs)
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}
