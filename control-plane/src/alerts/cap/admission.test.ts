import { describe, expect, it } from 'vitest'
import { capXml, postCap } from '../../../test-kit/cap.js'
import { MAX_AGE_S, useCapPlane } from '../../../test-kit/cap-plane.js'
import { ConfigError, loadConfigFromEnv } from '../../config.js'

/**
 * What a CAP message may do to alerts, over the real HTTP endpoint of a real control plane (SQLite, broker): its
 * `sent` within the window, only its own status, its urgency and scope. The order of messages is in order.test.ts.
 */
const cap = useCapPlane()
const { s, id, post, alertOf, allAlerts, desiredAlerts } = cap

describe('CAP sent window', () => {
  it('refuses a message without expires sent longer ago than LOA_CAP_MAX_AGE_S, and raises nothing', async () => {
    const before = (await allAlerts()).length
    const old = await post({ identifier: id('old'), sent: s(-MAX_AGE_S - 60), expires: null })
    expect(old.status).toBe(422)
    expect(old.body.code).toBe('LOA_CAP_STALE')
    expect(old.body.message).toMatch(
      /^alert\/sent: .* s old and the message gives no expires .*LOA_CAP_MAX_AGE_S/,
    )
    const years = await post({ identifier: id('years'), sent: s(-3 * 365 * 86_400), expires: null })
    expect(years.status).toBe(422)
    expect((await allAlerts()).length).toBe(before)
    const recent = await post({ identifier: id('recent'), sent: s(-MAX_AGE_S + 60), expires: null })
    expect(recent.status).toBe(201)
  })

  it('refuses a message sent further ahead than LOA_CAP_MAX_FUTURE_S, whatever its type', async () => {
    const ahead = await post({ identifier: id('ahead'), sent: s(3600) })
    expect(ahead.status).toBe(422)
    expect(ahead.body.code).toBe('LOA_CAP_STALE')
    expect(ahead.body.message).toMatch(
      /^alert\/sent: .* s ahead of this server's clock .*LOA_CAP_MAX_FUTURE_S/,
    )
    const cancel = await post({
      identifier: id('ahead-cancel'),
      sent: s(3600),
      msgType: 'Cancel',
      refs: [['x', s(0)]],
    })
    expect(cancel.status).toBe(422)
    expect((await post({ identifier: id('skew'), sent: s(30) })).status).toBe(201)
  })

  it('with expires, is in effect until then, but never more than 7 days after sent', async () => {
    const longAgo = await post({ identifier: id('week'), sent: s(-8 * 86_400), expires: s(3600) })
    expect(longAgo.status).toBe(422)
    expect(longAgo.body.message).toMatch(/no alert lasts more than 604800 s after it was sent/)
    const late = await post({ identifier: id('late'), sent: s(-2 * 3600), expires: s(3600) })
    expect(late.status).toBe(201)
    const a = await alertOf(late.body.alertId)
    expect(a.state).toBe('active')
  })

  it('an effective time in the future starts the alert then; effective after expires is refused', async () => {
    const later = await post({
      identifier: id('effective'),
      sent: s(0),
      effective: s(1800),
      expires: s(7200),
    })
    expect(later.status).toBe(201)
    expect((await alertOf(later.body.alertId)).startsAt).toBe(
      new Date(Math.floor(s(1800) / 1000) * 1000).toISOString(),
    )
    const never = await post({ identifier: id('never'), sent: s(0), effective: s(7200), expires: s(3600) })
    expect(never.status).toBe(400)
    expect(never.body.message).toMatch(/^alert\/info\/0\/effective: .* is not before expires/)
  })
})

describe('CAP status: messages of one status never touch alerts of another', () => {
  it('a Test or Exercise Cancel, and an Exercise Update, of a live Actual alert are refused; it keeps sounding', async () => {
    const actual = id('actual')
    const r = await post({ identifier: actual, sent: s(-30) })
    expect(r.status).toBe(201)
    expect(r.body.audible).toBe(true)
    for (const status of ['Test', 'Exercise']) {
      const c = await post({
        identifier: id(`${status}-cancel`),
        sent: s(-20),
        status,
        msgType: 'Cancel',
        refs: [[actual, s(-30)]],
      })
      expect(c.status).toBe(409)
      expect(c.body.code).toBe('LOA_CAP_CONFLICT')
      expect(c.body.message).toMatch(
        new RegExp(
          `^alert/references/0: ${actual} .* is a Actual message; a ${status} message never touches it`,
        ),
      )
    }
    const u = await post({
      identifier: id('ex-update'),
      sent: s(-10),
      status: 'Exercise',
      msgType: 'Update',
      refs: [[actual, s(-30)]],
    })
    expect(u.status).toBe(409)
    const a = await alertOf(r.body.alertId)
    expect(a).toMatchObject({ state: 'active', revision: 1, audible: true })
    expect(await desiredAlerts('c-a')).toContain(`${r.body.alertId}#1`)
  })

  it('what an Exercise Cancel names is remembered for Exercise only: the Actual message of that name sounds', async () => {
    const name = id('shared')
    const c = await post({
      identifier: id('ex-cancel'),
      sent: s(-10),
      status: 'Exercise',
      msgType: 'Cancel',
      refs: [[name, s(-20)]],
    })
    expect(c.status).toBe(202)
    const a = await post({ identifier: name, sent: s(-20) })
    expect(a.status).toBe(201)
    expect(a.body).toMatchObject({ action: 'raised', audible: true, sent: true })
  })

  it('Test and Exercise alerts and their Updates never sound', async () => {
    for (const status of ['Test', 'Exercise']) {
      const first = id(status)
      const r = await post({ identifier: first, sent: s(-20), status })
      expect(r.body).toMatchObject({ action: 'raised', audible: false })
      const u = await post({
        identifier: id(`${status}-u`),
        sent: s(-10),
        status,
        msgType: 'Update',
        refs: [[first, s(-20)]],
        headline: 'Cập nhật',
      })
      expect(u.body).toMatchObject({ action: 'updated', audible: false, revision: 2 })
    }
  })

  it('a reference whose sent does not match the message received is refused', async () => {
    const first = id('sent-mismatch')
    await post({ identifier: first, sent: s(-20) })
    const c = await post({ identifier: id('c'), sent: s(-10), msgType: 'Cancel', refs: [[first, s(-25)]] })
    expect(c.status).toBe(400)
    expect(c.body.message).toMatch(new RegExp(`^alert/references/0: ${first} .* was sent at .*, not `))
  })

  it('an identifier names one message: the same identifier with another sent or status is a conflict', async () => {
    const name = id('twice')
    expect((await post({ identifier: name, sent: s(-20) })).status).toBe(201)
    expect((await post({ identifier: name, sent: s(-20) })).body.action).toBe('duplicate')
    const other = await post({ identifier: name, sent: s(-10) })
    expect(other.status).toBe(409)
    expect(other.body.message).toMatch(/^alert\/identifier: .* was already received as a Actual message/)
  })
})

describe('CAP urgency', () => {
  it('urgency Past (an all-clear) is a priority bulletin, never an emergency that preempts', async () => {
    const xml = capXml({ identifier: id('all-clear'), sent: s(0) }).replace(
      '<urgency>Immediate</urgency>',
      '<responseType>AllClear</responseType>\n    <urgency>Past</urgency>',
    )
    const r = await postCap(cap.t, xml)
    expect(r.status).toBe(201)
    expect(r.body).toMatchObject({ level: 'priority', priority: 100, audible: true })
  })
})

describe('CAP scope', () => {
  it('Restricted and Private messages are refused, never read aloud', async () => {
    const before = (await allAlerts()).length
    const restricted = await post({
      identifier: id('restricted'),
      sent: s(0),
      scope: 'Restricted',
      afterScope: '\n  <restriction>Ban chỉ huy PCTT</restriction>',
    })
    expect(restricted.status).toBe(422)
    expect(restricted.body.message).toMatch(
      /^alert\/scope: Restricted messages are not broadcast on public loudspeakers/,
    )
    const priv = await post({
      identifier: id('private'),
      sent: s(0),
      scope: 'Private',
      afterScope: '\n  <addresses>ubnd-xa-a "Ban chỉ huy"</addresses>',
    })
    expect(priv.status).toBe(422)
    expect(priv.body.code).toBe('LOA_CAP_UNSUPPORTED')
    const noAddresses = await post({ identifier: id('private'), sent: s(0), scope: 'Private' })
    expect(noAddresses.status).toBe(400)
    expect(noAddresses.body.message).toBe('alert/addresses: required when scope is Private')
    expect((await allAlerts()).length).toBe(before)
  })
})

describe('CAP window configuration', () => {
  it('LOA_CAP_MAX_AGE_S and LOA_CAP_MAX_FUTURE_S have defaults and are checked', () => {
    expect(loadConfigFromEnv({})).toMatchObject({ capMaxAgeS: 10_800, capMaxFutureS: 300 })
    expect(loadConfigFromEnv({ LOA_CAP_MAX_AGE_S: '600', LOA_CAP_MAX_FUTURE_S: '0' })).toMatchObject({
      capMaxAgeS: 600,
      capMaxFutureS: 0,
    })
    for (const [name, value] of [
      ['LOA_CAP_MAX_AGE_S', 'soon'],
      ['LOA_CAP_MAX_AGE_S', '10'],
      ['LOA_CAP_MAX_FUTURE_S', '-1'],
    ] as const) {
      expect(() => loadConfigFromEnv({ [name]: value })).toThrow(ConfigError)
      expect(() => loadConfigFromEnv({ [name]: value })).toThrow(new RegExp(name))
    }
  })
})
