import { type Communes, today, weekly } from './refs-seed.js'
import type { ApiCall } from './test-helpers.js'

/**
 * Test fixture of access-refs.test.ts: one case per API route × body field or query parameter that names another
 * record. Each case says who calls, the request naming `ref` in that field, a record of xa-ab's scope with which
 * the request works, and one of xa-hoaphu's that it must treat as unknown. The test checks that the cases cover
 * every such field the OpenAPI document lists.
 */

export interface RefCase {
  actor: ApiCall
  /** The request naming `ref` in the field. */
  request: (ref: string) => [method: string, url: string, body?: unknown]
  /** A record of xa-ab's scope (the request works with it) and one of xa-hoaphu's (keys of `ids` allowed). */
  own: string
  foreign: string
  /** What an unknown record is called in that field (default: an id that exists nowhere). */
  unknown?: string
}

export const UNKNOWN_ID = 'nope-unknown'
export const UNKNOWN_SHA = 'f'.repeat(64)
let serial = 0
const fresh = (prefix: string) => `${prefix}-${++serial}`

export function refCases(c: Communes): Record<string, RefCase> {
  const { ab, abAdmin, ids } = c
  const reportQuery = (ref: string) => `unitId=${ref}&from=${today()}&to=${today()}`
  const yearQuery = (ref: string) => `unitId=${ref}&year=${today().slice(0, 4)}`
  const get =
    (url: string): RefCase['request'] =>
    (ref) => ['GET', url.replace('REF', encodeURIComponent(ref))]
  const scheduleWith =
    (targets: (ref: string) => Record<string, unknown>, extra: (ref: string) => object = () => ({})) =>
    (ref: string): [string, string, unknown] => [
      'POST',
      '/api/schedules',
      { bulletinId: 'b-ab', recurrence: weekly, targets: targets(ref), ...extra(ref) },
    ]
  const alertWith =
    (b: (ref: string) => object): RefCase['request'] =>
    (ref) => [
      'POST',
      '/api/alerts',
      { title: 'Cảnh báo', targets: { units: ['xa-ab'] }, expiresInS: 60, ...b(ref) },
    ]
  const liveBody = { title: 'Tiếp sóng', sourceUrl: 'http://radio.example.vn/a.mp3', durationS: 60 }
  const relayBody = { ...liveBody, recurrence: weekly }

  return {
    'POST /api/users body.scopeUnitId': {
      actor: abAdmin,
      request: (ref) => [
        'POST',
        '/api/users',
        {
          username: fresh('nguoi'),
          displayName: 'Người',
          role: 'viewer',
          scopeUnitId: ref,
          password: 'mật-khẩu-dài-12',
        },
      ],
      own: 'thon-ab',
      foreign: 'xa-hoaphu',
    },
    'PATCH /api/users/{id} body.scopeUnitId': {
      actor: abAdmin,
      request: (ref) => ['PATCH', `/api/users/${ids.userAb}`, { scopeUnitId: ref }],
      own: 'thon-ab',
      foreign: 'xa-hoaphu',
    },
    'POST /api/tokens body.scopeUnitId': {
      actor: abAdmin,
      request: (ref) => ['POST', '/api/tokens', { name: 'Mã', role: 'viewer', scopeUnitId: ref }],
      own: 'thon-ab',
      foreign: 'xa-hoaphu',
    },
    'POST /api/units body.parentId': {
      actor: abAdmin,
      request: (ref) => [
        'POST',
        '/api/units',
        { id: fresh('thon'), name: 'Thôn', kind: 'village', parentId: ref },
      ],
      own: 'xa-ab',
      foreign: 'xa-hoaphu',
    },
    'PUT /api/units/{id}/fallback body.bulletinIds': {
      actor: ab,
      request: (ref) => ['PUT', '/api/units/xa-ab/fallback', { bulletinIds: [ref], windows: [] }],
      own: 'b-ab',
      foreign: 'b-hoaphu',
    },
    'POST /api/stations body.unitId': {
      actor: abAdmin,
      request: (ref) => ['POST', '/api/stations', { name: 'Đài', unitId: ref }],
      own: 'thon-ab',
      foreign: 'xa-hoaphu',
    },
    'POST /api/clusters body.unitId': {
      actor: abAdmin,
      request: (ref) => ['POST', '/api/clusters', { id: fresh('cum'), name: 'Cụm', unitId: ref }],
      own: 'thon-ab',
      foreign: 'xa-hoaphu',
    },
    'POST /api/clusters body.stationId': {
      actor: abAdmin,
      request: (ref) => [
        'POST',
        '/api/clusters',
        { id: fresh('cum'), name: 'Cụm', unitId: 'xa-ab', stationId: ref },
      ],
      own: 'st-ab',
      foreign: 'st-hoaphu',
    },
    'PATCH /api/clusters/{id} body.unitId': {
      actor: abAdmin,
      request: (ref) => ['PATCH', '/api/clusters/c-ab', { unitId: ref }],
      own: 'xa-ab',
      foreign: 'xa-hoaphu',
    },
    'PATCH /api/clusters/{id} body.stationId': {
      actor: abAdmin,
      request: (ref) => ['PATCH', '/api/clusters/c-ab', { stationId: ref }],
      own: 'st-ab',
      foreign: 'st-hoaphu',
    },
    'POST /api/bulletins body.mediaSha256': {
      actor: ab,
      request: (ref) => ['POST', '/api/bulletins', { title: 'Tin', level: 'normal', mediaSha256: ref }],
      own: 'shaAb',
      foreign: 'shaHp',
      unknown: UNKNOWN_SHA,
    },
    'POST /api/bulletins body.unitId': {
      actor: ab,
      request: (ref) => [
        'POST',
        '/api/bulletins',
        { title: 'Tin', level: 'normal', mediaSha256: ids.shaAb, unitId: ref },
      ],
      own: 'thon-ab',
      foreign: 'xa-hoaphu',
    },
    'POST /api/playlists body.bulletinIds': {
      actor: ab,
      request: (ref) => ['POST', '/api/playlists', { title: 'Chương trình', bulletinIds: ['b-ab', ref] }],
      own: 'b-ab',
      foreign: 'b-hoaphu',
    },
    'POST /api/playlists body.unitId': {
      actor: ab,
      request: (ref) => [
        'POST',
        '/api/playlists',
        { title: 'Chương trình', bulletinIds: ['b-ab'], unitId: ref },
      ],
      own: 'thon-ab',
      foreign: 'xa-hoaphu',
    },
    'POST /api/schedules body.bulletinId': {
      actor: ab,
      request: (ref) => [
        'POST',
        '/api/schedules',
        { bulletinId: ref, recurrence: weekly, targets: { units: ['xa-ab'] } },
      ],
      own: 'b-ab',
      foreign: 'b-hoaphu',
    },
    'POST /api/schedules body.playlistId': {
      actor: ab,
      request: (ref) => [
        'POST',
        '/api/schedules',
        { playlistId: ref, recurrence: weekly, targets: { units: ['xa-ab'] } },
      ],
      own: 'p-ab',
      foreign: 'p-hoaphu',
    },
    'POST /api/schedules body.targets.units': {
      actor: ab,
      request: scheduleWith((ref) => ({ units: [ref] })),
      own: 'thon-ab',
      foreign: 'xa-hoaphu',
    },
    'POST /api/schedules body.targets.clusters': {
      actor: ab,
      request: scheduleWith((ref) => ({ clusters: [ref] })),
      own: 'c-ab',
      foreign: 'c-hoaphu',
    },
    'POST /api/alerts body.bulletinId': {
      actor: ab,
      request: alertWith((ref) => ({ bulletinId: ref })),
      own: 'b-ab',
      foreign: 'b-hoaphu',
    },
    'POST /api/alerts body.mediaSha256s': {
      actor: ab,
      request: alertWith((ref) => ({ mediaSha256s: [ref] })),
      own: 'shaAb',
      foreign: 'shaHp',
      unknown: UNKNOWN_SHA,
    },
    'POST /api/alerts body.targets.units': {
      actor: ab,
      request: alertWith((ref) => ({ bulletinId: 'b-ab', targets: { units: [ref] } })),
      own: 'thon-ab',
      foreign: 'xa-hoaphu',
    },
    'POST /api/alerts body.targets.clusters': {
      actor: ab,
      request: alertWith((ref) => ({ bulletinId: 'b-ab', targets: { clusters: [ref] } })),
      own: 'c-ab',
      foreign: 'c-hoaphu',
    },
    'PUT /api/alerts/{id} body.bulletinId': {
      actor: ab,
      request: (ref) => ['PUT', `/api/alerts/${ids.alertAb}`, { bulletinId: ref }],
      own: 'b-ab',
      foreign: 'b-hoaphu',
    },
    'PUT /api/alerts/{id} body.mediaSha256s': {
      actor: ab,
      request: (ref) => ['PUT', `/api/alerts/${ids.alertAb}`, { mediaSha256s: [ref] }],
      own: 'shaAb',
      foreign: 'shaHp',
      unknown: UNKNOWN_SHA,
    },
    'POST /api/lives body.targets.units': {
      actor: ab,
      request: (ref) => ['POST', '/api/lives', { ...liveBody, targets: { units: [ref] } }],
      own: 'thon-ab',
      foreign: 'xa-hoaphu',
    },
    'POST /api/lives body.targets.clusters': {
      actor: ab,
      request: (ref) => ['POST', '/api/lives', { ...liveBody, targets: { clusters: [ref] } }],
      own: 'c-ab',
      foreign: 'c-hoaphu',
    },
    'POST /api/relays body.targets.units': {
      actor: ab,
      request: (ref) => ['POST', '/api/relays', { ...relayBody, targets: { units: [ref] } }],
      own: 'thon-ab',
      foreign: 'xa-hoaphu',
    },
    'POST /api/relays body.targets.clusters': {
      actor: ab,
      request: (ref) => ['POST', '/api/relays', { ...relayBody, targets: { clusters: [ref] } }],
      own: 'c-ab',
      foreign: 'c-hoaphu',
    },
    'POST /api/tts/bulletins body.unitId': {
      actor: ab,
      request: (ref) => [
        'POST',
        '/api/tts/bulletins',
        { text: 'Xin chào bà con', title: 'Loa', unitId: ref },
      ],
      own: 'xa-ab',
      foreign: 'xa-hoaphu',
    },
    'POST /api/bulletins/{id}/send body.toUnitIds': {
      actor: ab,
      request: (ref) => ['POST', '/api/bulletins/b-ab-send/send', { toUnitIds: [ref] }],
      own: 'thon-ab',
      foreign: 'xa-hoaphu',
    },
    'PUT /api/programmes/{id}/order body.bulletinIds': {
      actor: ab,
      request: (ref) => ['PUT', `/api/programmes/${ids['programme-xa-ab']}/order`, { bulletinIds: [ref] }],
      own: 'b-prov-xa-ab',
      foreign: 'b-hoaphu',
    },
    'GET /api/audit query.unit': {
      actor: ab,
      request: get('/api/audit?unit=REF'),
      own: 'xa-ab',
      foreign: 'xa-hoaphu',
    },
    'GET /api/audit query.actor': {
      actor: ab,
      request: get('/api/audit?actor=REF'),
      own: 'x',
      foreign: 'hpActor',
    },
    'GET /api/audit.csv query.unit': {
      actor: ab,
      request: get('/api/audit.csv?unit=REF'),
      own: 'xa-ab',
      foreign: 'xa-hoaphu',
    },
    'GET /api/audit.csv query.actor': {
      actor: ab,
      request: get('/api/audit.csv?actor=REF'),
      own: 'x',
      foreign: 'hpActor',
    },
    'GET /api/clusters query.unitId': {
      actor: ab,
      request: get('/api/clusters?unitId=REF'),
      own: 'xa-ab',
      foreign: 'xa-hoaphu',
    },
    'GET /api/plays query.clusterId': {
      actor: ab,
      request: get('/api/plays?clusterId=REF'),
      own: 'c-ab',
      foreign: 'c-hoaphu',
    },
    'GET /api/plays query.unitId': {
      actor: ab,
      request: get('/api/plays?unitId=REF'),
      own: 'xa-ab',
      foreign: 'xa-hoaphu',
    },
    'GET /api/plays query.scheduleId': {
      actor: ab,
      request: get('/api/plays?scheduleId=REF'),
      own: 's-ab',
      foreign: 's-hoaphu',
    },
    'GET /api/events query.clusterId': {
      actor: ab,
      request: get('/api/events?clusterId=REF'),
      own: 'c-ab',
      foreign: 'c-hoaphu',
    },
    'GET /api/reports query.unitId': {
      actor: ab,
      request: (ref) => ['GET', `/api/reports?${reportQuery(ref)}`],
      own: 'xa-ab',
      foreign: 'xa-hoaphu',
    },
    'GET /api/reports.csv query.unitId': {
      actor: ab,
      request: (ref) => ['GET', `/api/reports.csv?${reportQuery(ref)}`],
      own: 'xa-ab',
      foreign: 'xa-hoaphu',
    },
    'GET /api/reports/yearly query.unitId': {
      actor: ab,
      request: (ref) => ['GET', `/api/reports/yearly?${yearQuery(ref)}`],
      own: 'xa-ab',
      foreign: 'xa-hoaphu',
    },
    'GET /api/reports/yearly.csv query.unitId': {
      actor: ab,
      request: (ref) => ['GET', `/api/reports/yearly.csv?${yearQuery(ref)}`],
      own: 'xa-ab',
      foreign: 'xa-hoaphu',
    },
    'GET /api/inbox query.unitId': {
      actor: ab,
      request: get('/api/inbox?unitId=REF'),
      own: 'xa-ab',
      foreign: 'xa-hoaphu',
    },
    'GET /api/programmes query.unitId': {
      actor: ab,
      request: get('/api/programmes?unitId=REF'),
      own: 'xa-ab',
      foreign: 'xa-hoaphu',
    },
    'GET /api/calendar query.unitId': {
      actor: ab,
      request: get('/api/calendar?unitId=REF'),
      own: 'xa-ab',
      foreign: 'xa-hoaphu',
    },
    'GET /api/calendar query.clusterId': {
      actor: ab,
      request: get('/api/calendar?clusterId=REF'),
      own: 'c-ab',
      foreign: 'c-hoaphu',
    },
    'GET /api/dashboard query.unitId': {
      actor: ab,
      request: get('/api/dashboard?unitId=REF'),
      own: 'xa-ab',
      foreign: 'xa-hoaphu',
    },
  }
}
