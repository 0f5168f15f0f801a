import { SerialPort } from 'serialport'
import { afterEach, describe, expect, it } from 'vitest'
import { ModemSim, ptyPair } from '../../../test-kit/modem-sim.js'
import { AtClient, responsePrefix } from './at-client.js'

// The AT client on a real serial port: one end of a `socat` pty pair; a simulated modem (test-kit/modem-sim.ts) on the
// other end echoes, splits every line across two writes, and can add garbage, URCs mid-response or fall silent.

const cleanup: (() => unknown)[] = []
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c()
})

const REPLIES: Record<string, string[]> = {
  'AT+CSQ': ['+CSQ: 20,99', 'OK'],
  'AT+CREG?': ['+CREG: 0,5', 'OK'],
  'AT+COPS?': ['+COPS: 0,0,"Viettel Viettel",7', 'OK'],
  'AT+CCID': ['+CME ERROR: 58'],
  'AT+QCCID': ['+QCCID: 89840480001234567890', 'OK'],
}

async function setup() {
  const pair = await ptyPair()
  cleanup.push(pair.close)
  const sim = new ModemSim(pair.b, { ...REPLIES })
  cleanup.push(() => sim.close())
  const port = new SerialPort({ path: pair.a, baudRate: 115200 })
  await new Promise<void>((r) => port.once('open', () => r()))
  cleanup.push(() => new Promise((r) => port.close(() => r(undefined))))
  const urcs: string[] = []
  const at = new AtClient(port, { onUrc: (l) => urcs.push(l), defaultTimeoutMs: 1500, syncTimeoutMs: 800 })
  cleanup.push(() => at.close())
  return { sim, at, urcs }
}

describe('responsePrefix', () => {
  it('derives the information-line prefix from the command', () => {
    expect(responsePrefix('AT+CSQ')).toBe('+CSQ:')
    expect(responsePrefix('AT+creg?')).toBe('+CREG:')
    expect(responsePrefix('AT+QGPSLOC=2')).toBe('+QGPSLOC:')
    expect(responsePrefix('ATI')).toBeNull()
  })
})

describe('AtClient (simulated modem on a socat pty)', () => {
  it('turns echo off, frames responses up to OK across split writes, and queues commands one at a time', async () => {
    const { sim, at } = await setup()
    const [csq, creg, cops] = await Promise.all([at.send('AT+CSQ'), at.send('AT+CREG?'), at.send('AT+COPS?')])
    expect(csq.lines).toEqual(['+CSQ: 20,99'])
    expect(creg.lines).toEqual(['+CREG: 0,5'])
    expect(cops.lines).toEqual(['+COPS: 0,0,"Viettel Viettel",7'])
    expect(sim.received).toEqual(['AT', 'ATE0', 'AT+CSQ', 'AT+CREG?', 'AT+COPS?'])
  })

  it('rejects on ERROR and +CME ERROR with the line, and goes on with the next command', async () => {
    const { at } = await setup()
    await expect(at.send('AT+CCID')).rejects.toMatchObject({ code: 'LOA_MODEM_ERROR' })
    await expect(at.send('AT+NOPE')).rejects.toThrow('AT+NOPE: ERROR')
    expect((await at.send('AT+QCCID')).lines).toEqual(['+QCCID: 89840480001234567890'])
  })

  it('routes unsolicited result codes, also in the middle of a response, and keeps its own prefix', async () => {
    const { sim, at, urcs } = await setup()
    await at.send('AT+CSQ')
    sim.urcInside = 'RING'
    const r = await at.send('AT+COPS?')
    expect(r.lines).toEqual(['+COPS: 0,0,"Viettel Viettel",7'])
    sim.urcInside = '+CREG: 1,"1A2B","01C3D4E5",7'
    expect((await at.send('AT+CSQ')).lines).toEqual(['+CSQ: 20,99'])
    // The same +CREG: is the response of AT+CREG?, not a URC.
    expect((await at.send('AT+CREG?')).lines[0]).toBe('+CREG: 0,5')
    await sim.urc('+CEREG: 5')
    await expect.poll(() => urcs).toEqual(['RING', '+CREG: 1,"1A2B","01C3D4E5",7', '+CEREG: 5'])
  })

  it('drops garbage bytes and resynchronises', async () => {
    const { sim, at, urcs } = await setup()
    sim.garbageBefore = true
    expect((await at.send('AT+CSQ')).lines).toEqual(['+CSQ: 20,99'])
    // Noise glued to the front of the final code still ends the response.
    expect((await at.send('AT+QCCID')).lines).toEqual(['+QCCID: 89840480001234567890'])
    await expect(at.send('AT+CCID')).rejects.toThrow('+CME ERROR: 58')
    expect(urcs).toEqual([])
  })

  it('a modem that stops answering times out; once it answers again the client resynchronises', async () => {
    const { sim, at } = await setup()
    await at.send('AT+CSQ')
    sim.silent = true
    const t0 = Date.now()
    await expect(at.send('AT+CSQ', 500)).rejects.toMatchObject({ code: 'LOA_MODEM_TIMEOUT' })
    expect(Date.now() - t0).toBeGreaterThanOrEqual(450)
    // Still silent: the resynchronising AT gets no OK, the command fails without being sent.
    await expect(at.send('AT+CREG?')).rejects.toThrow(/resynchronising/)
    sim.silent = false
    sim.echo = true // a modem that reset comes back with echo on
    expect((await at.send('AT+COPS?')).lines).toEqual(['+COPS: 0,0,"Viettel Viettel",7'])
    expect(sim.received.slice(-3)).toEqual(['AT', 'ATE0', 'AT+COPS?'])
  })
})
