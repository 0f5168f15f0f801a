import {
  type AckStage,
  type CommandBody,
  type DesiredStateBody,
  decodeMessage,
  encodeMessage,
  serializeMessage,
} from '@loa/shared'
import { waitFor } from '@loa/testkit'
import type { MqttClient } from 'mqtt'
import { deviceClient, planeClient, type TestPlane } from './test-helpers.js'

/** Test helpers for alerts: a broker-wide spy on command topics and simulated devices (real mqtt.js clients). */

export interface CmdSpy {
  seen: { topic: string; body: CommandBody }[]
  close(): Promise<void>
}

/** Counts every command published on the broker, unit and device topics alike. */
export async function spyCommands(t: TestPlane): Promise<CmdSpy> {
  const client = await planeClient(t, `spy-${Math.random().toString(16).slice(2)}`)
  const seen: CmdSpy['seen'] = []
  client.on('message', (topic, payload) => {
    seen.push({ topic, body: decodeMessage('cmd', payload).body })
  })
  await client.subscribeAsync('loa/v1/+/+/cmd', { qos: 1 })
  return { seen, close: () => client.endAsync() }
}

/** Per-target ack counts of an alert or a live relay, as views and SSE events carry them. */
export type { AlertCounts as StageCounts } from '../src/commands/model.js'

export interface SimDevice {
  id: string
  client: MqttClient
  commands: CommandBody[]
  desired: DesiredStateBody[]
  ack(commandId: string, stage: AckStage, reason?: string): Promise<void>
  /** Says it is online (retained, as an agent does): the control plane re-publishes its desired state. */
  online(): Promise<void>
  close(): Promise<void>
}

/** A device that subscribes like an agent: its own topics and the command topic of every unit on its path. */
export async function simDevice(t: TestPlane, id: string): Promise<SimDevice> {
  const state = (await t.api<DesiredStateBody>('GET', `/api/clusters/${id}/desired-state`)).body
  const client = await deviceClient(t, id)
  const commands: CommandBody[] = []
  const desired: DesiredStateBody[] = []
  client.on('message', (topic, payload) => {
    if (topic.endsWith('/desired')) desired.push(decodeMessage('desired', payload).body)
    else if (topic.endsWith('/cmd')) commands.push(decodeMessage('cmd', payload).body)
  })
  await client.subscribeAsync(
    [
      `loa/v1/device/${id}/cmd`,
      `loa/v1/device/${id}/desired`,
      ...state.units.map((u) => `loa/v1/unit/${u}/cmd`),
    ],
    { qos: 1 },
  )
  return {
    id,
    client,
    commands,
    desired,
    async ack(commandId, stage, reason) {
      const msg = encodeMessage('ack', id, {
        commandId,
        stage,
        at: new Date().toISOString(),
        ...(reason ? { reason } : {}),
      })
      await client.publishAsync(`loa/v1/device/${id}/ack`, serializeMessage('ack', msg), { qos: 1 })
    },
    async online() {
      const msg = encodeMessage('presence', id, { online: true })
      await client.publishAsync(`loa/v1/device/${id}/presence`, serializeMessage('presence', msg), {
        qos: 1,
        retain: true,
      })
    },
    close: () => client.endAsync(),
  }
}

/** Collects Server-Sent Events from a real HTTP stream until `end` (or the stream closes). */
export async function readSse(
  url: string,
  headers: Record<string, string> = {},
): Promise<{
  events: { event: string; data: Record<string, unknown> }[]
  done: Promise<void>
  abort(): void
}> {
  const ctrl = new AbortController()
  const res = await fetch(url, { signal: ctrl.signal, headers })
  if (!res.ok || !res.body) throw new Error(`stream ${url}: ${res.status}`)
  const events: { event: string; data: Record<string, unknown> }[] = []
  const reader = res.body.getReader()
  const decoder = new TextDecoder()
  const done = (async () => {
    let buf = ''
    try {
      for (;;) {
        const { value, done } = await reader.read()
        if (done) return
        buf += decoder.decode(value, { stream: true })
        for (let i = buf.indexOf('\n\n'); i >= 0; i = buf.indexOf('\n\n')) {
          const block = buf.slice(0, i)
          buf = buf.slice(i + 2)
          let event = 'message'
          let data = ''
          for (const line of block.split('\n')) {
            if (line.startsWith('event: ')) event = line.slice(7)
            else if (line.startsWith('data: ')) data += line.slice(6)
          }
          if (data) events.push({ event, data: JSON.parse(data) })
        }
      }
    } catch {
      // aborted
    }
  })()
  return { events, done, abort: () => ctrl.abort() }
}

export const settle = (ms = 300) => new Promise((r) => setTimeout(r, ms))

export { waitFor }
