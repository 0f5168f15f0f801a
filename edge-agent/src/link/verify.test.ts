import { type CommandBody, encodeMessage, serializeMessage, topicTree } from '@loa/shared'
import {
  generateSigningKey,
  makeKeyLink,
  type Signer,
  signEnvelope,
  signerFromPem,
} from '@loa/shared/signing'
import { waitFor } from '@loa/testkit'
import type { MqttClient } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { desired, signed, TEST_SIGNER } from '../../test-kit/messages.js'
import { receiptingClient, startBroker, type Upstream } from '../../test-kit/servers.js'
import { silentLog, testAgentConfig } from '../../test-kit/test-helpers.js'
import { Agent } from '../agent.js'

const tree = topicTree('loa')
const newSigner = (): Signer => signerFromPem(generateSigningKey().privateKeyPem)
const inMs = (ms: number) => new Date(Date.now() + ms).toISOString()
const ping = (deviceId: string, commandId: string, deadlineMs = 60_000): CommandBody => ({
  commandId,
  kind: 'ping',
  deadline: inMs(deadlineMs),
  recipients: { devices: [deviceId], units: [] },
})

describe('the agent verifies everything the control plane sends', () => {
  let broker: Awaited<ReturnType<typeof startBroker>>
  let cp: MqttClient
  let ups: Upstream[]
  const agents: Agent[] = []

  const start = async (deviceId: string, dataDir?: string) => {
    const a = new Agent(testAgentConfig(deviceId, broker.url, dataDir ? { dataDir } : {}), silentLog, {
      flushIntervalMs: 200,
    })
    agents.push(a)
    await a.start()
    await waitFor(() => a.link.connected, 10_000, 'agent connected')
    // Subscriptions are sent right after connect: give the broker a moment to register them.
    await new Promise((r) => setTimeout(r, 200))
    return a
  }
  const send = (deviceId: string, channel: 'cmd' | 'desired', msg: unknown) =>
    cp.publishAsync(tree.device(deviceId, channel), JSON.stringify(msg), { qos: 1 })
  const ofDevice = (deviceId: string, channel: string) =>
    ups.filter((u) => u.topic === tree.device(deviceId, channel as 'event')).map((u) => u.body)
  const rejections = (deviceId: string) =>
    ofDevice(deviceId, 'event')
      .filter((e) => e.kind === 'message-rejected')
      .map((e) => e.data as { code: string; messageId?: string; topic: string })
  const acks = (deviceId: string, commandId: string) =>
    ofDevice(deviceId, 'ack')
      .filter((a) => a.commandId === commandId)
      .map((a) => a.stage)
  /** The code of the nth refusal (1-based) of the message with this envelope id. */
  const rejectedCode = async (deviceId: string, messageId: string, nth = 1) =>
    (
      await waitFor(
        () => rejections(deviceId).filter((r) => r.messageId === messageId)[nth - 1],
        10_000,
        `rejection of ${messageId}`,
      )
    ).code

  beforeAll(async () => {
    broker = await startBroker()
    ;({ cp, ups } = await receiptingClient(broker.url, 'cp-verify-test'))
  })
  afterAll(async () => {
    for (const a of agents) await a.stop().catch(() => {})
    await cp.endAsync()
    await broker.close()
  })

  it('refuses unsigned, forged, tampered, far-future and replayed commands; legitimate ones still run', async () => {
    const dev = 'pi-v1'
    await start(dev)
    const unsigned = encodeMessage('cmd', 'control-plane', ping(dev, 'cmd-unsigned-1'))
    await send(dev, 'cmd', unsigned)
    expect(await rejectedCode(dev, unsigned.id)).toBe('LOA_SIG_MISSING')

    const forged = signed('cmd', ping(dev, 'cmd-forged-01'), { signer: newSigner() })
    await send(dev, 'cmd', forged)
    expect(await rejectedCode(dev, forged.id)).toBe('LOA_SIG_UNKNOWN_KEY')

    // Signed by another key that claims the trusted key id.
    const impostor = signEnvelope(encodeMessage('cmd', 'control-plane', ping(dev, 'cmd-impost-1')), {
      ...newSigner(),
      keyId: TEST_SIGNER.keyId,
    })
    await send(dev, 'cmd', impostor)
    expect(await rejectedCode(dev, impostor.id)).toBe('LOA_SIG_INVALID')

    const good = signed('cmd', ping(dev, 'cmd-tamper-01'))
    const tampered = { ...good, body: { ...good.body, kind: 'resync' } }
    await send(dev, 'cmd', tampered)
    expect(await rejectedCode(dev, good.id)).toBe('LOA_SIG_INVALID')

    const far = signed('cmd', ping(dev, 'cmd-farfut-01', 30 * 86_400_000))
    await send(dev, 'cmd', far)
    expect(await rejectedCode(dev, far.id)).toBe('LOA_CMD_DEADLINE_FAR')

    // None of them was carried out or even acknowledged.
    for (const id of ['cmd-unsigned-1', 'cmd-forged-01', 'cmd-impost-1', 'cmd-tamper-01', 'cmd-farfut-01']) {
      expect(acks(dev, id)).toEqual([])
    }
    const events = ofDevice(dev, 'event').filter((e) => e.kind === 'message-rejected')
    expect(events.every((e) => (e.data as { topic: string }).topic === tree.device(dev, 'cmd'))).toBe(true)

    // The legitimate command runs; its replay is refused as a duplicate and reported.
    const legit = signed('cmd', ping(dev, 'cmd-legit-001'))
    await send(dev, 'cmd', legit)
    await waitFor(() => acks(dev, 'cmd-legit-001').includes('done'), 10_000, 'legit done')
    await send(dev, 'cmd', legit)
    await waitFor(() => acks(dev, 'cmd-legit-001').includes('rejected'), 10_000, 'replay rejected')
    expect(acks(dev, 'cmd-legit-001')).toEqual(['received', 'done', 'rejected'])
    // The event travels through the outbox after the ack, so it may land a moment later.
    const dup = await waitFor(
      () =>
        ofDevice(dev, 'event').find(
          (e) => e.kind === 'command-rejected' && (e.data as { reason: string }).reason === 'duplicate',
        ),
      10_000,
      'duplicate reported',
    )
    expect((dup.data as { commandId: string }).commandId).toBe('cmd-legit-001')
    // Expired by the clock: acknowledged `expired`, never run.
    await send(dev, 'cmd', signed('cmd', ping(dev, 'cmd-expire-01', -5_000)))
    await waitFor(() => acks(dev, 'cmd-expire-01').length > 0, 10_000, 'expired ack')
    expect(acks(dev, 'cmd-expire-01')).toEqual(['expired'])
  })

  it('a clock that is behind cannot revive an expired command: signed times are a floor for now', async () => {
    const dev = 'pi-v2'
    const a = await start(dev)
    // The control plane's clock is an hour ahead of this box's (the box booted without NTP).
    const cpNow = new Date(Date.now() + 3600_000)
    await send(dev, 'desired', signed('desired', { ...desired(1, []), deviceId: dev }, { sentAt: cpNow }))
    await waitFor(() => a.store.received()?.version === 1, 10_000, 'desired v1')
    expect(a.verifier.now()).toBeGreaterThanOrEqual(cpNow.getTime())
    // Sent 2 h ago by the control plane's clock, deadline 30 min ago by it: still "valid" by the local clock.
    const old = signed('cmd', ping(dev, 'cmd-old-0001', 0), { sentAt: new Date(cpNow.getTime() - 7200_000) })
    old.body.deadline = new Date(cpNow.getTime() - 1800_000).toISOString()
    const resigned = signEnvelope({ ...old, sig: undefined }, TEST_SIGNER)
    await send(dev, 'cmd', resigned)
    expect(await rejectedCode(dev, resigned.id)).toBe('LOA_CMD_EXPIRED')
    expect(acks(dev, 'cmd-old-0001')).toEqual([])
    // A fresh command (deadline 60 s after the control plane's now) still runs although it looks far ahead here.
    const fresh = signed(
      'cmd',
      { ...ping(dev, 'cmd-fresh-001'), deadline: new Date(cpNow.getTime() + 60_000).toISOString() },
      {
        sentAt: cpNow,
      },
    )
    await send(dev, 'cmd', fresh)
    await waitFor(() => acks(dev, 'cmd-fresh-001').includes('done'), 10_000, 'fresh done')
  })

  it('refuses unsigned, tampered and replayed (older) desired states', async () => {
    const dev = 'pi-v3'
    const a = await start(dev)
    const body = (version: number) => ({ ...desired(version, []), deviceId: dev, volume: 40 + version })
    const unsigned = encodeMessage('desired', 'control-plane', body(5))
    await send(dev, 'desired', unsigned)
    expect(await rejectedCode(dev, unsigned.id)).toBe('LOA_SIG_MISSING')
    const v2 = signed('desired', body(2))
    const tampered = { ...v2, body: { ...v2.body, volume: 100 } }
    await send(dev, 'desired', tampered)
    expect(await rejectedCode(dev, v2.id)).toBe('LOA_SIG_INVALID')
    expect(a.store.received()).toBeNull()
    await send(dev, 'desired', v2)
    await waitFor(() => a.store.received()?.version === 2, 10_000, 'v2')
    await send(dev, 'desired', signed('desired', body(3)))
    await waitFor(() => a.store.received()?.version === 3, 10_000, 'v3')
    // Yesterday's state replayed: dropped from its first bytes, counted, not reported one by one.
    await send(dev, 'desired', v2)
    await waitFor(() => a.desiredGate.dropped === 1, 10_000, 'replay dropped')
    expect(rejections(dev).filter((r) => r.messageId === v2.id)).toHaveLength(1)
    expect(a.store.received()?.version).toBe(3)
    expect(a.store.received()?.body.volume).toBe(43)
  })

  it('follows a key rotation through the chain, persists it, and stops accepting the retired key', async () => {
    const dev = 'pi-v4'
    const a = await start(dev)
    const k1 = newSigner()
    const chain1 = [makeKeyLink(TEST_SIGNER, k1)]
    const v1 = signed('desired', { ...desired(1, []), deviceId: dev }, { signer: { ...k1, chain: chain1 } })
    await send(dev, 'desired', v1)
    await waitFor(() => a.store.received()?.version === 1, 10_000, 'v1 under k1')
    expect(a.verifier.keyId).toBe(k1.keyId)
    await waitFor(() => ofDevice(dev, 'event').some((e) => e.kind === 'signing-key-changed'), 10_000, 'event')
    // The retired key no longer works, even for a well-formed command.
    const old = signed('cmd', ping(dev, 'cmd-oldkey-01'))
    await send(dev, 'cmd', old)
    expect(await rejectedCode(dev, old.id)).toBe('LOA_SIG_UNKNOWN_KEY')
    const now = signed('cmd', ping(dev, 'cmd-newkey-01'), { signer: { ...k1, chain: chain1 } })
    await send(dev, 'cmd', now)
    await waitFor(() => acks(dev, 'cmd-newkey-01').includes('done'), 10_000, 'k1 command done')
    // After a restart the box still trusts k1 only.
    const dataDir = a.config.dataDir
    await a.stop()
    const again = await start(dev, dataDir)
    expect(again.verifier.keyId).toBe(k1.keyId)
  })

  it('an offline box walks several rotations at once; a forged link is refused', async () => {
    const dev = 'pi-v5'
    const a = await start(dev)
    const k1 = newSigner()
    const k2 = newSigner()
    const chain = [makeKeyLink(TEST_SIGNER, k1), makeKeyLink(k1, k2)]
    // An attacker who never had the old key fabricates a link from it to their own key.
    const attacker = newSigner()
    const forgedLink = { ...makeKeyLink(attacker, attacker), previousKeyId: TEST_SIGNER.keyId }
    const evil = signed('cmd', ping(dev, 'cmd-evil-0001'), { signer: { ...attacker, chain: [forgedLink] } })
    await send(dev, 'cmd', evil)
    expect(await rejectedCode(dev, evil.id)).toBe('LOA_SIG_CHAIN')
    expect(a.verifier.keyId).toBe(TEST_SIGNER.keyId)
    const msg = signed('desired', { ...desired(1, []), deviceId: dev }, { signer: { ...k2, chain } })
    await send(dev, 'desired', msg)
    await waitFor(() => a.store.received()?.version === 1, 10_000, 'v1 under k2')
    expect(a.verifier.keyId).toBe(k2.keyId)
    // Legitimate traffic under the newest key keeps flowing.
    await send(dev, 'cmd', signed('cmd', ping(dev, 'cmd-k2-000001'), { signer: { ...k2, chain } }))
    await waitFor(() => acks(dev, 'cmd-k2-000001').includes('done'), 10_000, 'k2 command done')
    expect(
      serializeMessage('cmd', signed('cmd', ping(dev, 'cmd-size-0001'), { signer: { ...k2, chain } })).length,
    ).toBeLessThan(4096)
  })
})
