/**
 * A worker process of simulated agents for the emergency bench: one real MQTT connection per device, subscribed
 * like a real agent (its own command topic and its commune's), acknowledging `received` and `playing` as soon
 * as an alert arrives. No audio: the bench measures delivery, not ffmpeg.
 *
 * Protocol with the parent (IPC): parent → {devices: [{id, unitIds, password}], mqttUrl}; child → {ready: n};
 * child → {acks: [[deviceId, ackAtMs], ...]} once every device acknowledged, or on {report: true}.
 */
import { encodeMessage, serializeMessage, topicTree } from '@loa/shared'
import mqtt, { type MqttClient } from 'mqtt'

interface Start {
  /** `password`: the device's own broker credential (username = id). */
  devices: { id: string; unitIds: string[]; password?: string }[]
  mqttUrl: string
}

const topics = topicTree('loa')
const clients: MqttClient[] = []
const acks: [string, number][] = []
let expected = 0

function onMessage(client: MqttClient, deviceId: string, payload: Buffer): void {
  let body: { kind?: string; alert?: { ackId: string } }
  try {
    body = (JSON.parse(payload.toString()) as { body: typeof body }).body
  } catch {
    return
  }
  if (body.kind !== 'alert' || !body.alert) return
  const at = Date.now()
  for (const stage of ['received', 'playing'] as const) {
    const msg = encodeMessage('ack', deviceId, {
      commandId: body.alert.ackId,
      stage,
      at: new Date(at).toISOString(),
    })
    client.publish(topics.device(deviceId, 'ack'), serializeMessage('ack', msg), { qos: 1 })
  }
  acks.push([deviceId, at])
  if (acks.length === expected) process.send?.({ acks })
}

async function start(s: Start): Promise<void> {
  expected = s.devices.length
  const batch = 50
  for (let i = 0; i < s.devices.length; i += batch) {
    await Promise.all(
      s.devices.slice(i, i + batch).map(async (d) => {
        const client = await mqtt.connectAsync(s.mqttUrl, {
          clientId: `loa-agent-${d.id}`,
          ...(d.password ? { username: d.id, password: d.password } : {}),
          reconnectPeriod: 1000,
          keepalive: 120,
          queueQoSZero: false,
        })
        client.on('message', (_t, p) => onMessage(client, d.id, p))
        await client.subscribeAsync(
          [topics.device(d.id, 'cmd'), ...d.unitIds.map((u) => topics.unitCommands(u))],
          { qos: 1 },
        )
        clients.push(client)
      }),
    )
  }
  process.send?.({ ready: clients.length })
}

process.on('message', (m: Start | { report: true } | { stop: true }) => {
  if ('devices' in m) void start(m).catch((err: unknown) => process.send?.({ error: String(err) }))
  else if ('report' in m) process.send?.({ acks })
  else if ('stop' in m) {
    void Promise.all(clients.map((c) => c.endAsync(true))).finally(() => process.exit(0))
  }
})
