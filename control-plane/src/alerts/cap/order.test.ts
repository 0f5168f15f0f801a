import { describe, expect, it } from 'vitest'
import { settle } from '../../../test-kit/alerts.js'
import { useCapPlane } from '../../../test-kit/cap-plane.js'

/**
 * The order of CAP messages over the real HTTP endpoint of a real control plane (SQLite, broker): applied in `sent`
 * order, Cancels remembered before what they name arrives, messages of one chain arriving together.
 * The sent window, status, urgency and scope are in admission.test.ts.
 */
const cap = useCapPlane()
const { s, id, post, alertOf, allAlerts, desiredAlerts, published } = cap

describe('CAP order: by sent, Cancels remembered', () => {
  it('a late Update arriving after the Cancel that referenced it changes nothing and is never sent', async () => {
    const a = id('A')
    const u = id('U')
    const raised = await post({ identifier: a, sent: s(-30) })
    const c = await post({
      identifier: id('C'),
      sent: s(-10),
      msgType: 'Cancel',
      refs: [
        [a, s(-30)],
        [u, s(-20)],
      ],
    })
    expect(c.body).toMatchObject({ action: 'cancelled', alertId: raised.body.alertId, sent: true })
    await settle()
    const count = published()
    const alerts = (await allAlerts()).length
    const late = await post({ identifier: u, sent: s(-20), msgType: 'Update', refs: [[a, s(-30)]] })
    expect(late.status).toBe(200)
    expect(late.body).toMatchObject({ action: 'cancelled', sent: false })
    await settle()
    expect(published()).toBe(count)
    expect((await allAlerts()).length).toBe(alerts)
    expect((await alertOf(raised.body.alertId)).state).toBe('cancelled')
  })

  it('an Update older than the Cancel of its chain (not named by it) never sounds either', async () => {
    const a = id('A')
    await post({ identifier: a, sent: s(-30) })
    await post({ identifier: id('C'), sent: s(-10), msgType: 'Cancel', refs: [[a, s(-30)]] })
    const alerts = (await allAlerts()).length
    const late = await post({ identifier: id('U'), sent: s(-20), msgType: 'Update', refs: [[a, s(-30)]] })
    expect(late.body).toMatchObject({ action: 'cancelled', sent: false })
    expect((await allAlerts()).length).toBe(alerts)
  })

  it('a Cancel arriving before its Alert is remembered; the Alert then never sounds', async () => {
    const a = id('A')
    const c = await post({ identifier: id('C'), sent: s(-10), msgType: 'Cancel', refs: [[a, s(-20)]] })
    expect(c.status).toBe(202)
    expect(c.body).toMatchObject({ action: 'remembered', alertId: null, sent: false })
    await settle()
    const count = published()
    const alerts = (await allAlerts()).length
    const late = await post({ identifier: a, sent: s(-20) })
    expect(late.status).toBe(200)
    expect(late.body).toMatchObject({ action: 'cancelled', alertId: null, sent: false })
    await settle()
    expect(published()).toBe(count)
    expect((await allAlerts()).length).toBe(alerts)
    // And an Update of it, older than the Cancel, does not raise it either.
    const u = await post({ identifier: id('U'), sent: s(-15), msgType: 'Update', refs: [[a, s(-20)]] })
    expect(u.body).toMatchObject({ action: 'cancelled', sent: false })
  })

  it('a Cancel of an Update not received yet: when the Update comes, the alert it would replace ends', async () => {
    const a = id('A')
    const u = id('U')
    const raised = await post({ identifier: a, sent: s(-30) })
    const c = await post({ identifier: id('C'), sent: s(-10), msgType: 'Cancel', refs: [[u, s(-20)]] })
    expect(c.status).toBe(202)
    expect((await alertOf(raised.body.alertId)).state).toBe('active')
    const late = await post({ identifier: u, sent: s(-20), msgType: 'Update', refs: [[a, s(-30)]] })
    expect(late.body).toMatchObject({ action: 'cancelled', alertId: raised.body.alertId, sent: true })
    expect((await alertOf(raised.body.alertId)).state).toBe('cancelled')
    expect(await desiredAlerts('c-a')).not.toContain(`${raised.body.alertId}#1`)
  })

  it('an Update older than the newest one applied changes nothing', async () => {
    const a = id('A')
    const raised = await post({ identifier: a, sent: s(-30) })
    const newer = await post({
      identifier: id('U2'),
      sent: s(-10),
      msgType: 'Update',
      refs: [[a, s(-30)]],
      headline: 'Mới nhất',
    })
    expect(newer.body).toMatchObject({ action: 'updated', revision: 2 })
    const older = await post({
      identifier: id('U1'),
      sent: s(-20),
      msgType: 'Update',
      refs: [[a, s(-30)]],
      headline: 'Cũ',
    })
    expect(older.body).toMatchObject({
      action: 'superseded',
      alertId: raised.body.alertId,
      revision: 2,
      sent: false,
    })
    expect(await alertOf(raised.body.alertId)).toMatchObject({
      state: 'active',
      revision: 2,
      title: 'Mới nhất',
    })
  })

  it('a Cancel older than an Update applied after it (and not naming it) leaves the alert sounding', async () => {
    const a = id('A')
    const raised = await post({ identifier: a, sent: s(-30) })
    await post({ identifier: id('U'), sent: s(-10), msgType: 'Update', refs: [[a, s(-30)]] })
    const c = await post({ identifier: id('C'), sent: s(-20), msgType: 'Cancel', refs: [[a, s(-30)]] })
    expect(c.body).toMatchObject({ action: 'superseded', sent: false })
    expect((await alertOf(raised.body.alertId)).state).toBe('active')
  })

  it('an Update sent after the Cancel of its chain is a new alert', async () => {
    const a = id('A')
    const raised = await post({ identifier: a, sent: s(-30) })
    await post({ identifier: id('C'), sent: s(-20), msgType: 'Cancel', refs: [[a, s(-30)]] })
    const again = await post({ identifier: id('U'), sent: s(-10), msgType: 'Update', refs: [[a, s(-30)]] })
    expect(again.status).toBe(201)
    expect(again.body.action).toBe('raised')
    expect(again.body.alertId).not.toBe(raised.body.alertId)
  })

  it('an Update after an operator cancelled the alert, but sent before, never sounds', async () => {
    const a = id('A')
    const raised = await post({ identifier: a, sent: s(-30) })
    expect((await cap.t.api('POST', `/api/alerts/${raised.body.alertId}/cancel`)).status).toBe(200)
    const late = await post({ identifier: id('U'), sent: s(-20), msgType: 'Update', refs: [[a, s(-30)]] })
    expect(late.body).toMatchObject({ action: 'cancelled', sent: false })
  })

  it('an Update with another area moves the alert: a new alert there, the old one cancelled', async () => {
    const a = id('A')
    const raised = await post({ identifier: a, sent: s(-30), area: 'xa-a' })
    const moved = await post({
      identifier: id('U'),
      sent: s(-20),
      msgType: 'Update',
      refs: [[a, s(-30)]],
      area: 'xa-b',
    })
    expect(moved.status).toBe(201)
    expect(moved.body).toMatchObject({ action: 'raised', revision: 1, targetCount: 1 })
    expect(moved.body.alertId).not.toBe(raised.body.alertId)
    expect((await alertOf(raised.body.alertId)).state).toBe('cancelled')
    expect(await desiredAlerts('c-b')).toContain(`${moved.body.alertId}#1`)
    expect(await desiredAlerts('c-a')).not.toContain(`${raised.body.alertId}#1`)
    // The chain follows the new alert.
    const c = await post({ identifier: id('C'), sent: s(-10), msgType: 'Cancel', refs: [[a, s(-30)]] })
    expect(c.body).toMatchObject({ action: 'cancelled', alertId: moved.body.alertId, sent: true })
  })
})

describe('CAP messages of one chain arriving together', () => {
  it('an Alert and its Cancel at once: whichever is applied first, the alert does not stay on', async () => {
    const a = id('A')
    const [alert, cancel] = await Promise.all([
      post({ identifier: a, sent: s(-20) }),
      post({ identifier: id('C'), sent: s(-10), msgType: 'Cancel', refs: [[a, s(-20)]] }),
    ])
    expect([200, 201]).toContain(alert.status)
    expect([200, 202]).toContain(cancel.status)
    if (alert.body.alertId) expect((await alertOf(alert.body.alertId)).state).toBe('cancelled')
    else expect(alert.body).toMatchObject({ action: 'cancelled', sent: false })
  })

  it('an Update and a newer Cancel at once: both answered, the alert ends, nothing new is raised', async () => {
    const a = id('A')
    const raised = await post({ identifier: a, sent: s(-30) })
    const alerts = (await allAlerts()).length
    const [update, cancel] = await Promise.all([
      post({ identifier: id('U'), sent: s(-20), msgType: 'Update', refs: [[a, s(-30)]] }),
      post({ identifier: id('C'), sent: s(-10), msgType: 'Cancel', refs: [[a, s(-30)]] }),
    ])
    expect(update.status).toBe(200)
    expect(['updated', 'cancelled']).toContain(update.body.action)
    expect(cancel.body).toMatchObject({ action: 'cancelled', alertId: raised.body.alertId })
    expect((await alertOf(raised.body.alertId)).state).toBe('cancelled')
    expect((await allAlerts()).length).toBe(alerts)
  })
})
