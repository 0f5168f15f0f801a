import { type ChildProcess, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { decodeMessage, topicTree } from '@loa/shared'
import { waitFor } from '@loa/testkit'
import Database from 'better-sqlite3'
import mqtt from 'mqtt'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { fakeSysfs } from '../../test-kit/gpio-fakes.js'
import { TEST_KEY } from '../../test-kit/messages.js'
import { startBroker } from '../../test-kit/servers.js'
import { tmp } from '../../test-kit/test-helpers.js'
import { watchdogPingMs } from './watchdog.js'

const MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url))
/** The fault injection (LOA_TEST_HANG), loaded into the agent process from outside its build. */
const HANG = fileURLToPath(new URL('../../test-kit/hang.mjs', import.meta.url))
const tree = topicTree('loa')

/**
 * The service manager's side of sd_notify: a unix datagram socket printing one message per line. It closes the
 * file descriptor systemd-notify passes with BARRIER=1, as systemd does (socat keeps it open, so the barrier would
 * time out). Python because Node has no unix datagram sockets.
 */
const RECEIVER = `
import array, os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print('LISTENING', flush=True)
while True:
    msg, anc, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(64))
    for level, kind, data in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds = array.array('i')
            fds.frombytes(data[: len(data) - len(data) % fds.itemsize])
            for fd in fds:
                os.close(fd)
    print(msg.decode().replace('\\n', ' '), flush=True)
`

/**
 * A small systemd: runs the agent with NOTIFY_SOCKET and WATCHDOG_USEC, and when no WATCHDOG=1 arrives within
 * `watchdogMs` after READY=1 sends SIGTERM (the unit's WatchdogSignal=SIGTERM), SIGKILL 5 s later, then starts it again
 * (Restart=always) with `restartEnv`.
 */
class Supervisor {
  readonly socket: string
  readonly messages: { at: number; state: string }[] = []
  readonly exits: (number | null)[] = []
  agent: ChildProcess | null = null
  output = ''
  private receiver: ChildProcess | null = null
  private timer: NodeJS.Timeout | null = null
  private lastPing = 0
  /** systemd arms the watchdog once start-up is complete (READY=1); before that TimeoutStartSec applies. */
  private ready = false
  private stopping = false

  constructor(
    dir: string,
    private readonly watchdogMs: number,
    private readonly env: NodeJS.ProcessEnv,
    private readonly restartEnv: NodeJS.ProcessEnv,
  ) {
    this.socket = join(dir, 'notify.sock')
  }

  async start(): Promise<void> {
    const r = spawn('python3', ['-c', RECEIVER, this.socket], { stdio: ['ignore', 'pipe', 'inherit'] })
    this.receiver = r
    await new Promise<void>((resolve) => {
      let buf = ''
      r.stdout?.on('data', (d: Buffer) => {
        buf += d.toString()
        const lines = buf.split('\n')
        buf = lines.pop() ?? ''
        for (const l of lines) {
          if (l === 'LISTENING') resolve()
          else {
            this.messages.push({ at: Date.now(), state: l })
            if (l.includes('READY=1')) this.ready = true
            if (l.includes('WATCHDOG=1') || l.includes('READY=1')) this.lastPing = Date.now()
          }
        }
      })
    })
    this.launch(this.env)
    this.timer = setInterval(() => this.check(), 100)
  }

  pings(): number {
    return this.messages.filter((m) => m.state.includes('WATCHDOG=1')).length
  }

  private launch(extra: NodeJS.ProcessEnv): void {
    this.lastPing = Date.now()
    this.ready = false
    const child = spawn(process.execPath, ['--import', HANG, MAIN], {
      env: {
        ...process.env,
        ...extra,
        NOTIFY_SOCKET: this.socket,
        WATCHDOG_USEC: String(this.watchdogMs * 1000),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    child.stdout?.on('data', (d) => {
      this.output += d
    })
    child.stderr?.on('data', (d) => {
      this.output += d
    })
    child.once('exit', (code) => {
      this.exits.push(code)
      if (this.agent === child) this.agent = null
      if (!this.stopping) setTimeout(() => this.launch(this.restartEnv), 300)
    })
    this.agent = child
  }

  private check(): void {
    const a = this.agent
    if (!a || !this.ready || a.exitCode !== null || Date.now() - this.lastPing < this.watchdogMs) return
    this.lastPing = Date.now() // one kill per timeout
    this.messages.push({ at: Date.now(), state: 'SUPERVISOR: watchdog timeout, SIGTERM' })
    a.kill('SIGTERM')
    setTimeout(() => a.exitCode === null && a.signalCode === null && a.kill('SIGKILL'), 5000)
  }

  async stop(): Promise<void> {
    this.stopping = true
    if (this.timer) clearInterval(this.timer)
    const a = this.agent
    if (a && a.exitCode === null) {
      a.kill('SIGTERM')
      await new Promise((r) => a.once('exit', r))
    }
    this.receiver?.kill('SIGTERM')
  }
}

describe('watchdogPingMs', () => {
  it('is half of WATCHDOG_USEC, and only for our pid', () => {
    expect(watchdogPingMs({ WATCHDOG_USEC: '30000000' }, 7)).toBe(15_000)
    expect(watchdogPingMs({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '8' }, 7)).toBeNull()
    expect(watchdogPingMs({}, 7)).toBeNull()
  })
})

describe('agent under a watchdog (emulated systemd, real agent process, real broker)', {
  timeout: 180_000,
}, () => {
  let broker: Awaited<ReturnType<typeof startBroker>>
  let cp: mqtt.MqttClient
  const ups: { topic: string; msg: { type: string; body: Record<string, unknown> } }[] = []
  let sup: Supervisor | null = null
  beforeAll(async () => {
    broker = await startBroker()
    cp = await mqtt.connectAsync(broker.url, { clientId: 'test-watchdog-cp' })
    cp.on('message', (topic, payload) => {
      ups.push({ topic, msg: decodeMessage(topic.split('/').pop() as 'event', payload) })
    })
    await cp.subscribeAsync(`${tree.base}/device/+/event`, { qos: 1 })
  })
  afterEach(async () => {
    await sup?.stop()
    sup = null
  })
  afterAll(async () => {
    await cp.endAsync()
    await broker.close()
  })

  const restartedEvent = (device: string) =>
    ups.find((u) => u.topic.includes(`/${device}/`) && u.msg.body.kind === 'agent-restarted')?.msg.body

  it('a scheduler that stops ticking stops the pings; the restart is reported with the health snapshot', async () => {
    const dir = tmp('loa-watchdog-')
    const base = {
      LOA_DEVICE_ID: 'pi-wd-1',
      LOA_MQTT_URL: broker.url,
      LOA_DATA_DIR: join(dir, 'data'),
      LOA_LOCAL_PAGE_HOST: 'off',
      LOA_CONTROL_PLANE_KEY_ID: TEST_KEY.keyId,
      LOA_CONTROL_PLANE_PUBLIC_KEY: TEST_KEY.publicKey,
    }
    sup = new Supervisor(
      dir,
      6000,
      { ...base, LOA_TEST_HANG: 'scheduler', LOA_TEST_HANG_AFTER_MS: '3000' },
      base,
    )
    const s = sup
    await s.start()
    await waitFor(() => s.messages.some((m) => m.state.includes('READY=1')), 20_000, 'READY=1')
    await waitFor(() => s.pings() >= 1, 20_000, 'first WATCHDOG=1')
    // The hang: pings stop, the supervisor kills the agent, starts it again without the hang.
    await waitFor(() => s.exits.length === 1, 60_000, 'agent stopped by the watchdog')
    expect(s.messages.some((m) => m.state.startsWith('SUPERVISOR: watchdog timeout'))).toBe(true)
    const event = await waitFor(() => restartedEvent('pi-wd-1'), 60_000, 'agent-restarted event over MQTT')
    expect(event.severity).toBe('warning')
    const data = event.data as {
      cause: string
      unhealthy: { reasons: string[]; snapshot: { relayOn: boolean } }
    }
    expect(data.cause).toBe('watchdog')
    expect(data.unhealthy.reasons[0]).toMatch(/^scheduler: no tick for \d+ s$/)
    expect(data.unhealthy.snapshot.relayOn).toBe(false)
    // And the restarted agent is healthy: it pings again.
    const before = s.pings()
    await waitFor(() => s.pings() > before + 1, 30_000, 'pings after the restart')
    expect(s.exits.length).toBe(1)
  })

  it('an uncaught error with the amplifier on: the zone is driven off on the way out, the restart says crash', async () => {
    const dir = tmp('loa-watchdog-')
    const gpio = join(dir, 'gpio')
    const stopKernel = fakeSysfs(gpio)
    try {
      const base = {
        LOA_DEVICE_ID: 'pi-wd-2',
        LOA_MQTT_URL: broker.url,
        LOA_DATA_DIR: join(dir, 'data'),
        LOA_LOCAL_PAGE_HOST: 'off',
        LOA_CONTROL_PLANE_KEY_ID: TEST_KEY.keyId,
        LOA_CONTROL_PLANE_PUBLIC_KEY: TEST_KEY.publicKey,
        LOA_GPIO_SYSFS_ROOT: gpio,
        LOA_ZONES: JSON.stringify([
          { id: 'main', relay: { driver: 'sysfs', chip: 'pinctrl-bcm2711', line: 17 } },
        ]),
      }
      sup = new Supervisor(
        dir,
        60_000,
        { ...base, LOA_TEST_HANG: 'crash', LOA_TEST_HANG_AFTER_MS: '1500' },
        base,
      )
      const s = sup
      await s.start()
      const value = () => readFileSync(join(gpio, 'gpio529', 'value'), 'utf8').trim()
      await waitFor(() => s.exits.length === 1, 60_000, 'agent crashed')
      expect(s.exits[0]).toBe(1)
      expect(s.output).toContain('LOA_TEST_HANG=crash')
      // It was switched on just before the error (relay_log says so), and is off now.
      const db = new Database(join(dir, 'data', 'agent.db'), { readonly: true })
      const log = db.prepare('SELECT "on" FROM relay_log ORDER BY seq').all() as { on: number }[]
      const intent = db.prepare("SELECT value FROM kv WHERE key = 'relay.main'").get() as { value: string }
      db.close()
      expect(log.map((r) => r.on)).toEqual([1])
      expect(value()).toBe('0')
      expect(intent.value).toBe('0')
      const event = await waitFor(() => restartedEvent('pi-wd-2'), 60_000, 'agent-restarted event over MQTT')
      const data = event.data as { cause: string; crash: { error: string } }
      expect(data.cause).toBe('crash')
      expect(data.crash.error).toContain('LOA_TEST_HANG=crash')
    } finally {
      stopKernel()
    }
  })
})
