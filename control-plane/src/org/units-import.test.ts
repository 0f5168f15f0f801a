import { describe, expect, it } from 'vitest'
import type { Unit } from './model.js'
import { type ImportRow, planUnitImport } from './units-import.js'

const unit = (id: string, parentId: string | null, kind: string, code: string | null, name = id): Unit => ({
  id,
  parentId,
  name,
  kind,
  code,
  createdAt: '2026-01-01T00:00:00.000Z',
})
let line = 1
const row = (code: string, parentCode: string, name: string, kind: string): ImportRow => ({
  line: ++line,
  code,
  parentCode,
  name,
  kind,
})

describe('planUnitImport', () => {
  it('creates parents before children whatever the file order', () => {
    line = 1
    const r = planUnitImport(
      [],
      [
        row('v1', 'c1', 'Thôn 1', 'village'),
        row('c1', 'p', 'Xã 1', 'commune'),
        row('p', '', 'Tỉnh', 'province'),
      ],
    )
    expect('plan' in r && r.plan.create.map((u) => u.id)).toEqual(['p', 'c1', 'v1'])
  })

  it('adopts a code-less unit whose id is the code, refuses an id held by another code', () => {
    line = 1
    const existing = [unit('p', null, 'province', null), unit('c1', 'p', 'commune', 'OTHER')]
    const r = planUnitImport(existing, [row('p', '', 'Tỉnh', 'province'), row('c1', 'p', 'Xã', 'commune')])
    expect(r).toEqual({
      problems: [
        { line: 3, field: 'code', message: 'id "c1" is already used by the unit with code "OTHER"' },
      ],
    })
    const ok = planUnitImport([unit('p', null, 'province', null)], [row('p', '', 'Tỉnh', 'province')])
    expect('plan' in ok && ok.plan.update[0]?.changes).toEqual({
      name: { from: 'p', to: 'Tỉnh' },
      code: { from: null, to: 'p' },
    })
  })

  it('checks levels: a province has no parent, others need one above them', () => {
    line = 1
    const r = planUnitImport(
      [],
      [
        row('p', '', 'Tỉnh', 'province'),
        row('p2', 'p', 'Tỉnh 2', 'province'),
        row('c', '', 'Xã', 'commune'),
        row('v', 'p', 'Thôn', 'village'),
        row('d', 'v', 'Huyện', 'huyện'),
      ],
    )
    expect('problems' in r && r.problems.map((p) => [p.line, p.message])).toEqual([
      [3, 'a province has no parent'],
      [4, 'a commune needs a parent code'],
      [6, 'a district cannot be under a village'],
    ])
  })

  it('reports a bad parent row once, on its own line', () => {
    line = 1
    const r = planUnitImport(
      [],
      [row('p', '', 'Tỉnh', 'province'), row('c', 'p', '', 'commune'), row('v', 'c', 'Thôn', 'village')],
    )
    expect(r).toEqual({ problems: [{ line: 3, field: 'name', message: 'is empty' }] })
  })
})
