import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { tmp, tone } from '../../test-kit/test-helpers.js'
import { parseOutput } from './audio-output.js'
import { Player } from './player.js'

describe('player (real ffmpeg)', () => {
  const dir = tmp()
  const t = tone(dir, 1.5)

  it('plays in real time to a WAV file sink', async () => {
    const out = join(dir, 'out')
    const r = await new Player(parseOutput(`file:${out}`)).play(t.path, 0.5, 'test-play')
    expect(r.outcome).toBe('ok')
    expect(r.endedAt.getTime() - r.startedAt.getTime()).toBeGreaterThanOrEqual(1400)
    expect(readdirSync(out)).toEqual(['test-play.wav'])
    expect(statSync(join(out, 'test-play.wav')).size).toBeGreaterThan(100_000)
  })

  it('stops at once when aborted, and reports interrupted', async () => {
    const ac = new AbortController()
    setTimeout(() => ac.abort(), 300)
    const r = await new Player(parseOutput('null')).play(t.path, 1, 'x', ac.signal)
    expect(r.outcome).toBe('interrupted')
    expect(r.endedAt.getTime() - r.startedAt.getTime()).toBeLessThan(1200)
  })

  it('kills a play that outlives its bound', async () => {
    const r = await new Player(parseOutput('null')).play(t.path, 1, 'x', undefined, 400)
    expect(r.outcome).toBe('failed')
    expect(r.error).toMatch(/killed/)
  })

  it('reports a missing ffmpeg binary as a failure, not a crash', async () => {
    const r = await new Player(parseOutput('null'), '/nonexistent/ffmpeg').play(t.path, 1, 'x')
    expect(r.outcome).toBe('failed')
  })
})
