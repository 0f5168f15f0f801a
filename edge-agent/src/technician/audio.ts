import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { createReadStream, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { AgentError } from '../errors.js'

/** Longest local announcement kept: a technician's message, not a programme. */
export const MAX_ANNOUNCEMENT_S = 600

/** Runs ffmpeg to completion; rejects with the tail of its stderr. */
function ffmpeg(args: string[], timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('ffmpeg', ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    let stderr = ''
    child.stderr.on('data', (d: Buffer) => {
      if (stderr.length < 4000) stderr += d.toString('utf8')
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('error', (err) => {
      clearTimeout(timer)
      reject(err)
    })
    child.on('close', (code, sig) => {
      clearTimeout(timer)
      if (code === 0) resolve()
      else
        reject(new Error(`ffmpeg exited ${code ?? sig}: ${stderr.trim().split('\n').slice(-2).join(' | ')}`))
    })
  })
}

export function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256')
    createReadStream(path)
      .on('data', (d) => h.update(d))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')))
  })
}

/** Probes the duration by decoding (ffprobe's header guess is wrong for MediaRecorder's WebM, which has none). */
async function durationMs(path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn('ffmpeg', ['-hide_banner', '-nostdin', '-i', path, '-f', 'null', '-'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    let stderr = ''
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString('utf8')
      if (stderr.length > 20_000) stderr = stderr.slice(-4000)
    })
    child.on('error', reject)
    child.on('close', () => {
      const all = [...stderr.matchAll(/time=(\d+):(\d+):(\d+(?:\.\d+)?)/g)]
      const m = all[all.length - 1]
      if (!m) return resolve(0)
      resolve(Math.round((Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3])) * 1000))
    })
  })
}

/**
 * Makes any audio the phone sends (a file of any container, or MediaRecorder's WebM/Opus or MP4/AAC) into a mono
 * 48 kHz WAV the player can always read. The name the client gave is never used on disk: files are named by id.
 * Anything ffmpeg cannot decode, or that decodes to silence-length nothing, is refused with a clear error.
 */
export async function transcodeAnnouncement(
  input: string,
  dir: string,
  id: string,
): Promise<{ path: string; sha256: string; durationMs: number }> {
  mkdirSync(dir, { recursive: true })
  const out = join(dir, `${id}.wav`)
  const part = `${out}.part`
  try {
    await ffmpeg(
      [
        '-i',
        input,
        '-vn',
        '-t',
        String(MAX_ANNOUNCEMENT_S),
        '-ac',
        '1',
        '-ar',
        '48000',
        '-c:a',
        'pcm_s16le',
        '-f',
        'wav',
        part,
      ],
      120_000,
    )
  } catch (err) {
    rmSync(part, { force: true })
    throw new AgentError('LOA_LOCAL_AUDIO_INVALID', [
      `not decodable audio: ${(err as Error).message}`.slice(0, 300),
    ])
  }
  const ms = await durationMs(part)
  if (ms < 200) {
    rmSync(part, { force: true })
    throw new AgentError('LOA_LOCAL_AUDIO_INVALID', ['no audio in the file (shorter than 0.2 s)'])
  }
  renameSync(part, out)
  return { path: out, sha256: await sha256File(out), durationMs: ms }
}

/** A sine tone as WAV, made once per frequency and length and kept (a few kB each). */
export async function toneFile(
  dir: string,
  hz: number,
  seconds: number,
): Promise<{ path: string; sha256: string }> {
  mkdirSync(dir, { recursive: true })
  const path = join(dir, `tone-${hz}-${seconds}.wav`)
  if (!existsSync(path)) {
    const part = `${path}.part`
    await ffmpeg(
      [
        '-f',
        'lavfi',
        '-i',
        `sine=frequency=${hz}:duration=${seconds}`,
        '-ac',
        '1',
        '-ar',
        '48000',
        '-f',
        'wav',
        part,
      ],
      30_000,
    )
    renameSync(part, path)
  }
  return { path, sha256: await sha256File(path) }
}
