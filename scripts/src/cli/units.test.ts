import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestPlane, type TestPlane } from '../../../control-plane/test-kit/test-helpers.js'
import { cliEnv, runCli, writeFile } from '../../test-kit/cli.js'

interface Unit {
  id: string
  parentId: string | null
  name: string
  kind: string
  code: string | null
}

const GOOD = `code,parent_code,name,type
45,,Tỉnh Quảng Trị,province
19345,45,Xã Gio Linh,commune
19346,45,"Xã Cửa Việt, ven biển",xã
19345-01,19345,Thôn An Mỹ,village
19345-02,19345,Thôn Hà Thượng,thôn
`

describe('loa units import', { timeout: 180_000 }, () => {
  let t: TestPlane
  let dir: string
  let env: Record<string, string>
  const units = async () => (await t.api<{ units: Unit[] }>('GET', '/api/units')).body.units
  const loa = (...args: string[]) => runCli(['--api', t.cp.httpUrl, ...args], { env })

  beforeAll(async () => {
    t = await startTestPlane()
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loa-cli-units-'))
    env = cliEnv({ LOA_TOKEN: t.adminToken }).env
  })
  afterAll(async () => {
    await t.close()
    fs.rmSync(dir, { recursive: true, force: true })
  })

  it('a bad row imports nothing and every problem is reported by its CSV line', async () => {
    const bad = writeFile(
      dir,
      'bad.csv',
      `code,parent_code,name,type
45,,Tỉnh Quảng Trị,province
19345,45,Xã Gio Linh,commune
19346,999,Xã Mồ Côi,commune
19345,45,Xã Trùng Mã,commune
19347,45,=HYPERLINK("x"),commune
19348,45,Xã Lạ,galaxy
19349,45,"Xã \u202eẩn",commune
`,
    )
    const r = await loa('--json', 'units', 'import', bad)
    expect(r.code).toBe(65)
    const doc = r.json<{
      error: { code: string; details: { problems: { line: number; field: string }[] } }
    }>()
    expect(doc.error.code).toBe('LOA_UNIT_IMPORT_INVALID')
    expect(doc.error.details.problems.map((p) => [p.line, p.field])).toEqual([
      [4, 'parentCode'],
      [5, 'code'],
      [6, 'name'],
      [7, 'kind'],
      [8, 'name'],
    ])
    expect(r.stderr).toContain('dòng/line 4: parentCode: unknown parent "999"')
    // Lines 2 and 3 were fine, but nothing was imported.
    expect(await units()).toEqual([])
  })

  it('reports missing columns and ragged rows before calling the control plane', async () => {
    const noType = writeFile(dir, 'notype.csv', 'code,parent_code,name\n45,,Tỉnh\n')
    const r1 = await loa('units', 'import', noType)
    expect(r1.code).toBe(65)
    expect(r1.stderr).toMatch(/line 1.*missing column.*type/)
    const ragged = writeFile(
      dir,
      'ragged.csv',
      'code,parent_code,name,type\n45,,Tỉnh,province\n19345,45,Xã\n',
    )
    const r2 = await loa('--json', 'units', 'import', ragged)
    expect(r2.code).toBe(65)
    expect(
      r2.json<{ error: { details: { problems: { line: number }[] } } }>().error.details.problems,
    ).toEqual([{ line: 3, message: expect.stringContaining('3 fields') }])
    const unclosed = writeFile(dir, 'unclosed.csv', 'code,parent_code,name,type\n45,,"Tỉnh,province\n')
    const r3 = await loa('units', 'import', unclosed)
    expect(r3.code).toBe(65)
    expect(r3.stderr).toContain('malformed CSV')
    const missing = await loa('units', 'import', path.join(dir, 'nope.csv'))
    expect(missing.code).toBe(66)
    expect(await units()).toEqual([])
  })

  it('dry run says what would change and writes nothing', async () => {
    const file = writeFile(dir, 'good.csv', GOOD)
    const r = await loa('--json', 'units', 'import', file, '--dry-run')
    expect(r.code).toBe(0)
    const doc = r.json<{
      dryRun: boolean
      created: { code: string }[]
      updated: unknown[]
      unchanged: number
    }>()
    expect(doc.dryRun).toBe(true)
    expect(doc.created.map((u) => u.code)).toEqual(['45', '19345', '19346', '19345-01', '19345-02'])
    expect(await units()).toEqual([])
    const human = await loa('units', 'import', file, '--dry-run')
    expect(human.code).toBe(0)
    expect(human.stdout).toContain('would create 5')
    expect(human.stdout).toContain('+ 19346 Xã Cửa Việt, ven biển (commune < 45)')
  })

  it('imports the tree, and importing it again changes nothing', async () => {
    const file = writeFile(dir, 'good.csv', GOOD)
    const r = await loa('--json', 'units', 'import', file)
    expect(r.code).toBe(0)
    expect(r.json<{ created: unknown[] }>().created).toHaveLength(5)
    const stored = await units()
    expect(stored.map((u) => [u.id, u.parentId, u.kind, u.name])).toEqual([
      ['19345', '45', 'commune', 'Xã Gio Linh'],
      ['19345-01', '19345', 'village', 'Thôn An Mỹ'],
      ['19345-02', '19345', 'village', 'Thôn Hà Thượng'],
      ['19346', '45', 'commune', 'Xã Cửa Việt, ven biển'],
      ['45', null, 'province', 'Tỉnh Quảng Trị'],
    ])
    const again = await loa('--json', 'units', 'import', file)
    expect(again.code).toBe(0)
    expect(again.json()).toMatchObject({ created: [], updated: [], unchanged: 5 })
    expect(await units()).toEqual(stored)
  })

  it('updates changed names and parents, in decomposed Unicode too', async () => {
    const file = writeFile(
      dir,
      'renamed.csv',
      // Header in Vietnamese, columns reordered, names in NFD (as some spreadsheets save them).
      `tên,mã,loại,mã_cha
${'Tỉnh Quảng Trị'.normalize('NFD')},45,tỉnh,
Xã Gio Linh mới,19345,commune,45
Thôn An Mỹ,19345-01,village,19346
`,
    )
    const dry = await loa('--json', 'units', 'import', file, '--dry-run')
    expect(dry.json()).toMatchObject({
      created: [],
      updated: [
        { code: '19345', changes: { name: { from: 'Xã Gio Linh', to: 'Xã Gio Linh mới' } } },
        { code: '19345-01', changes: { parentId: { from: '19345', to: '19346' } } },
      ],
      unchanged: 1,
    })
    const r = await loa('units', 'import', file)
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('updated 2')
    const byId = new Map((await units()).map((u) => [u.id, u]))
    expect(byId.get('19345')?.name).toBe('Xã Gio Linh mới')
    expect(byId.get('19345-01')?.parentId).toBe('19346')
  })

  it('imports a province-sized file (3 000 villages) in one transaction', async () => {
    const lines = ['code,parent_code,name,type', 'P2,,Tỉnh Hai,province']
    for (let c = 0; c < 30; c++) {
      lines.push(`P2-${c},P2,Xã ${c},commune`)
      for (let v = 0; v < 100; v++) lines.push(`P2-${c}-${v},P2-${c},Thôn ${v} xã ${c},village`)
    }
    const file = writeFile(dir, 'big.csv', `${lines.join('\n')}\n`)
    const r = await loa('--json', 'units', 'import', file)
    expect(r.code, r.stderr).toBe(0)
    expect(r.json<{ created: unknown[] }>().created).toHaveLength(3031)
    expect((await units()).filter((u) => u.code?.startsWith('P2'))).toHaveLength(3031)
    const human = await loa('units', 'import', file)
    expect(human.stdout).toContain('unchanged 3031')
    const renamed = writeFile(dir, 'big2.csv', `${lines.join('\n').replaceAll('Thôn', 'Bản')}\n`)
    const dry = await loa('units', 'import', renamed, '--dry-run')
    expect(dry.stdout).toContain('would update 3000')
    expect(dry.stdout).toContain('and 2800 more (--json: all of them)')
  })

  it('refuses a cycle made by re-parenting stored units', async () => {
    // Units created through the API with free-text kinds the level check cannot rank.
    for (const u of [
      { id: 'a', name: 'A', kind: 'cluster-group', parentId: '45', code: 'A' },
      { id: 'b', name: 'B', kind: 'cluster-group', parentId: 'a', code: 'B' },
    ]) {
      expect((await t.api('POST', '/api/units', u)).status).toBe(201)
    }
    const file = writeFile(dir, 'cycle.csv', 'code,parent_code,name,type\nA,B,A,village\n')
    const before = await units()
    const r = await loa('--json', 'units', 'import', file)
    expect(r.code).toBe(65)
    expect(r.json<{ error: { details: { problems: unknown[] } } }>().error.details.problems).toEqual([
      { line: 2, field: 'parentCode', message: '"B" makes a cycle in the unit tree' },
    ])
    expect(await units()).toEqual(before)
  })
})
