import fs from 'node:fs/promises'
import { LoaError } from '../server/errors.js'
import type { EngineVoice, TtsEngine } from './speech.js'

/**
 * A domestic cloud text-to-speech service (FPT.AI, Viettel AI, Zalo AI, VBee …) reached over HTTP, configured
 * rather than coded: where to POST, how the key is sent, what the body looks like and where the audio comes back.
 * Vendors answer in one of three ways, all handled: the audio itself, JSON with a link to the audio (which may
 * take a few seconds to appear), or JSON with the audio in base64.
 */
export interface CloudTtsConfig {
  /** Short id used in voice ids (`fpt:banmai`). */
  id: string
  name: string
  url: string
  apiKey: string
  /** Header that carries the key (default `api-key`); `Authorization` sends `Bearer <key>`. */
  keyHeader?: string
  voices: EngineVoice[]
  /** `json` (default): `{[textField]: text, [voiceField]: voice, ...extra}`; `text`: the text as the body, voice in a header. */
  bodyFormat?: 'json' | 'text'
  textField?: string
  voiceField?: string
  /** Header for the voice when bodyFormat is `text` (default `voice`). */
  voiceHeader?: string
  extra?: Record<string, string | number | boolean>
  /** Dot path to the audio link in a JSON answer; default: the first of async, url, audio_url, audioUrl, data.url. */
  audioUrlField?: string
  /** Dot path to base64 audio in a JSON answer; default: audioContent, audio, data.audio. */
  audioBase64Field?: string
  timeoutMs?: number
}

const URL_FIELDS = ['async', 'url', 'audio_url', 'audioUrl', 'data.url', 'data.audio_url']
const BASE64_FIELDS = ['audioContent', 'audio', 'data.audio']

function at(obj: unknown, path: string): unknown {
  let cur = obj
  for (const k of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined
    cur = (cur as Record<string, unknown>)[k]
  }
  return cur
}

const isAudio = (type: string) => /^(audio\/|application\/octet-stream)/i.test(type)

export class CloudTtsEngine implements TtsEngine {
  readonly id: string
  readonly name: string
  readonly voices: readonly EngineVoice[]

  constructor(private readonly c: CloudTtsConfig) {
    if (!/^[a-z0-9][a-z0-9_-]{0,31}$/.test(c.id))
      throw new Error(`tts engine id "${c.id}": use a-z, 0-9, _ or -`)
    const u = new URL(c.url)
    if (u.protocol !== 'https:' && u.protocol !== 'http:')
      throw new Error(`tts engine ${c.id}: url must be http(s)`)
    if (c.voices.length === 0) throw new Error(`tts engine ${c.id}: no voices`)
    this.id = c.id
    this.name = c.name
    this.voices = c.voices
  }

  private fail(problem: string): LoaError {
    // Never the key, never the vendor's full answer: only what helps an operator.
    return new LoaError('LOA_TTS_FAILED', `voice: ${this.name} ${problem}`)
  }

  async synthesize(text: string, audioFile: string, opts: { voice?: string } = {}): Promise<void> {
    const voice = opts.voice ?? (this.voices[0] as EngineVoice).id
    const deadline = Date.now() + (this.c.timeoutMs ?? 60_000)
    const headers: Record<string, string> = {}
    const keyHeader = this.c.keyHeader ?? 'api-key'
    headers[keyHeader] =
      keyHeader.toLowerCase() === 'authorization' ? `Bearer ${this.c.apiKey}` : this.c.apiKey
    let body: string
    if (this.c.bodyFormat === 'text') {
      headers['content-type'] = 'text/plain; charset=utf-8'
      headers[this.c.voiceHeader ?? 'voice'] = voice
      body = text
    } else {
      headers['content-type'] = 'application/json'
      body = JSON.stringify({
        ...this.c.extra,
        [this.c.textField ?? 'text']: text,
        [this.c.voiceField ?? 'voice']: voice,
      })
    }
    const res = await this.fetch(this.c.url, { method: 'POST', headers, body }, deadline)
    if (!res.ok) throw this.fail(`answered HTTP ${res.status}`)
    const type = res.headers.get('content-type') ?? ''
    if (isAudio(type)) return this.save(res, audioFile)
    let json: unknown
    try {
      json = await res.json()
    } catch {
      throw this.fail('answered neither audio nor JSON')
    }
    const b64Fields = this.c.audioBase64Field ? [this.c.audioBase64Field] : BASE64_FIELDS
    for (const f of b64Fields) {
      const v = at(json, f)
      if (typeof v === 'string' && v.length > 100 && /^[A-Za-z0-9+/=\s]+$/.test(v)) {
        await fs.writeFile(audioFile, Buffer.from(v, 'base64'))
        return
      }
    }
    const urlFields = this.c.audioUrlField ? [this.c.audioUrlField] : URL_FIELDS
    const link = urlFields
      .map((f) => at(json, f))
      .find((v) => typeof v === 'string' && /^https?:\/\//.test(v))
    if (typeof link !== 'string') throw this.fail('answered JSON without audio or an audio link')
    await this.download(link, audioFile, deadline)
  }

  /** Asynchronous vendors publish the file a little later: 404 means "not yet", until the deadline. */
  private async download(link: string, audioFile: string, deadline: number): Promise<void> {
    for (let wait = 250; ; wait = Math.min(wait * 2, 2000)) {
      const res = await this.fetch(link, { method: 'GET' }, deadline)
      if (res.ok) return this.save(res, audioFile)
      if (res.status !== 404 && res.status !== 403) throw this.fail(`audio link answered HTTP ${res.status}`)
      if (Date.now() + wait > deadline) throw this.fail('audio was not ready in time')
      await new Promise((r) => setTimeout(r, wait))
    }
  }

  private async fetch(url: string, init: RequestInit, deadline: number): Promise<Response> {
    const ms = Math.max(1, deadline - Date.now())
    try {
      return await fetch(url, { ...init, signal: AbortSignal.timeout(ms), redirect: 'follow' })
    } catch (err) {
      throw this.fail(
        `unreachable (${(err as Error).name === 'TimeoutError' ? 'timed out' : (err as Error).message})`,
      )
    }
  }

  private async save(res: Response, audioFile: string): Promise<void> {
    const buf = Buffer.from(await res.arrayBuffer())
    if (buf.length === 0) throw this.fail('sent empty audio')
    await fs.writeFile(audioFile, buf)
  }
}

/**
 * Cloud engines from `LOA_TTS_CLOUD`: a JSON object or array of CloudTtsConfig. The key may be given as `apiKey` or,
 * to keep it out of the JSON, as `apiKeyEnv` naming another variable.
 */
export function cloudEnginesFromEnv(env: NodeJS.ProcessEnv = process.env): CloudTtsEngine[] {
  const raw = env.LOA_TTS_CLOUD
  if (!raw) return []
  let parsed: unknown
  try {
    parsed = JSON.parse(raw)
  } catch {
    throw new Error('LOA_TTS_CLOUD: not valid JSON')
  }
  const list = (Array.isArray(parsed) ? parsed : [parsed]) as (CloudTtsConfig & { apiKeyEnv?: string })[]
  return list.map((c) => {
    const apiKey = c.apiKey ?? (c.apiKeyEnv ? env[c.apiKeyEnv] : undefined)
    if (!apiKey) throw new Error(`LOA_TTS_CLOUD: engine ${c.id}: no apiKey (or apiKeyEnv) given`)
    return new CloudTtsEngine({ ...c, apiKey })
  })
}
