import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { runTool } from './process.js'

const roomy = { nice: 0, cpuSeconds: 60, wallSeconds: 60 }

/** Field 19 of a /proc/<pid>/stat line: the niceness the kernel schedules the process with. */
function niceOf(stat: string): number {
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16])
}

describe('media tool runner', () => {
  it('kills a process that spends more CPU than its budget, and says so', async () => {
    // A busy loop never ends by itself: only the CPU watchdog can stop it before the wall clock does.
    const r = await runTool('sh', ['-c', 'while :; do :; done'], { ...roomy, cpuSeconds: 0.5 })
    expect(r.killed).toBe('cpu')
    expect(r.code).toBeNull()
  })

  it('kills a process that outlives its wall-clock backstop without using CPU', async () => {
    const r = await runTool('sleep', ['30'], { ...roomy, wallSeconds: 0.5 })
    expect(r.killed).toBe('wall')
  })

  it('runs ordinary work that much nicer than the control plane, from its first instruction', async () => {
    // The tool reads its own niceness at once: it must already be set when the tool starts, not after.
    const r = await runTool('cat', ['/proc/self/stat'], { ...roomy, nice: 10 })
    // nice(1) adds to the control plane's own niceness.
    const own = niceOf(readFileSync('/proc/self/stat', 'utf8'))
    expect(niceOf(r.stdout)).toBe(Math.min(19, own + 10))
  })

  it('kills the process when its signal is aborted (shutdown)', async () => {
    const shutdown = new AbortController()
    const ran = runTool('sleep', ['30'], { ...roomy, signal: shutdown.signal })
    shutdown.abort()
    expect((await ran).killed).toBe('aborted')
  })

  it('feeds stdin and collects stdout of a process that stays within budget', async () => {
    const r = await runTool('cat', [], roomy, 'xin chào')
    expect(r).toMatchObject({ code: 0, stdout: 'xin chào', killed: null })
  })
})
