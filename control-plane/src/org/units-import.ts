import { plainTextProblem } from '../server/plain-text.js'
import type { Unit } from './model.js'

/**
 * Planning an import of administrative units (official code, parent code, name, type): every row is checked
 * against the file and the units already stored, and the result is either a list of problems (by CSV line) or
 * the exact changes to make. Pure, so the route can run it inside the transaction that applies it.
 */

export interface ImportRow {
  /** Line in the source file, echoed back in problems. */
  line: number
  code: string
  /** Empty for a root (the province). */
  parentCode: string
  name: string
  kind: string
}

export interface ImportProblem {
  line: number
  field: 'code' | 'parentCode' | 'name' | 'kind' | 'row'
  message: string
}

export interface PlannedUnit {
  line: number
  id: string
  code: string
  name: string
  kind: string
  parentId: string | null
  parentCode: string | null
}

export interface PlannedUpdate extends PlannedUnit {
  changes: Partial<Record<'name' | 'kind' | 'parentId' | 'code', { from: string | null; to: string | null }>>
}

export interface ImportPlan {
  /** In parent-before-child order, ready to insert. */
  create: PlannedUnit[]
  update: PlannedUpdate[]
  unchanged: number
}

/** The levels of Vietnam's administration, top-down; a unit's parent must be of a higher level. */
export const UNIT_KIND_RANK: Readonly<Record<string, number>> = {
  province: 0,
  district: 1,
  commune: 2,
  ward: 2,
  town: 2,
  village: 3,
}

/** Vietnamese names of the levels, folded to the canonical kind. Ambiguous ones ("thành phố") are left out. */
const KIND_ALIASES: Readonly<Record<string, string>> = {
  tỉnh: 'province',
  tinh: 'province',
  huyện: 'district',
  huyen: 'district',
  quận: 'district',
  quan: 'district',
  'thị xã': 'district',
  xã: 'commune',
  xa: 'commune',
  phường: 'ward',
  phuong: 'ward',
  'thị trấn': 'town',
  thôn: 'village',
  thon: 'village',
  bản: 'village',
  ấp: 'village',
  làng: 'village',
  'tổ dân phố': 'village',
  'khu phố': 'village',
}

export const CODE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$/
const MAX_NAME = 200
// Spreadsheet formula injection when the list is exported again.
const FORMULA_START = /^[=+\-@]/

/** NFC (so a decomposed "Xã" equals a composed one), trimmed, inner whitespace collapsed. */
export const normalizeText = (s: string): string =>
  s
    .normalize('NFC')
    .trim()
    .replace(/[ \t]+/g, ' ')

export function canonicalKind(raw: string): string | null {
  const k = normalizeText(raw).toLowerCase()
  if (k in UNIT_KIND_RANK) return k
  return KIND_ALIASES[k] ?? null
}

/** Why a display name is refused (empty, too long, control or bidi characters, markup, formula), or null. */
export function nameProblem(name: string): string | null {
  if (name.length === 0) return 'is empty'
  if (name.length > MAX_NAME) return `is longer than ${MAX_NAME} characters`
  const notPlain = plainTextProblem(name)
  if (notPlain) return notPlain
  if (FORMULA_START.test(name)) return 'starts with = + - or @ (spreadsheet formula)'
  return null
}

interface Checked {
  row: ImportRow
  code: string
  parentCode: string
  name: string
  kind: string
}

export function planUnitImport(
  existing: readonly Unit[],
  rows: readonly ImportRow[],
): { plan: ImportPlan } | { problems: ImportProblem[] } {
  const problems: ImportProblem[] = []
  const report = (line: number, field: ImportProblem['field'], message: string) =>
    problems.push({ line, field, message })

  // 1. Each row on its own.
  const checked: Checked[] = []
  for (const row of rows) {
    const code = normalizeText(row.code)
    const parentCode = normalizeText(row.parentCode)
    const name = normalizeText(row.name)
    const kind = canonicalKind(row.kind)
    let ok = true
    if (!CODE_PATTERN.test(code)) {
      report(row.line, 'code', `"${code}" is not a valid code (letters, digits, _ . -; max 40)`)
      ok = false
    }
    if (parentCode !== '' && !CODE_PATTERN.test(parentCode)) {
      report(row.line, 'parentCode', `"${parentCode}" is not a valid code`)
      ok = false
    }
    const np = nameProblem(name)
    if (np) {
      report(row.line, 'name', np)
      ok = false
    }
    if (!kind) {
      report(
        row.line,
        'kind',
        `"${normalizeText(row.kind)}" is not a unit type (${Object.keys(UNIT_KIND_RANK).join(', ')})`,
      )
      ok = false
    }
    if (ok) checked.push({ row, code, parentCode, name, kind: kind as string })
  }

  // 2. Duplicates within the file.
  const anyRowCodes = new Set(rows.map((r) => normalizeText(r.code)))
  const byCode = new Map<string, Checked>()
  for (const c of checked) {
    const first = byCode.get(c.code)
    if (first) report(c.row.line, 'code', `duplicate code "${c.code}" (first on line ${first.row.line})`)
    else byCode.set(c.code, c)
  }

  // 3. Which stored unit each row is: by code, else a code-less unit whose id is the code (adopted).
  const storedByCode = new Map(existing.filter((u) => u.code !== null).map((u) => [u.code as string, u]))
  const storedById = new Map(existing.map((u) => [u.id, u]))
  const idOf = new Map<string, string>()
  for (const c of byCode.values()) {
    const stored = storedByCode.get(c.code)
    if (stored) idOf.set(c.code, stored.id)
    else {
      const sameId = storedById.get(c.code)
      if (sameId && sameId.code !== null) {
        report(c.row.line, 'code', `id "${c.code}" is already used by the unit with code "${sameId.code}"`)
      } else idOf.set(c.code, c.code)
    }
  }

  // 4. Parents: in the file or already stored; the parent's level must be above the child's.
  const parentOf = new Map<string, string | null>(existing.map((u) => [u.id, u.parentId]))
  const kindOf = new Map<string, string>(existing.map((u) => [u.id, u.kind]))
  for (const c of byCode.values()) {
    const id = idOf.get(c.code)
    if (id === undefined) continue
    kindOf.set(id, c.kind)
  }
  const planned: PlannedUnit[] = []
  for (const c of byCode.values()) {
    const id = idOf.get(c.code)
    if (id === undefined) continue
    let parentId: string | null = null
    if (c.parentCode !== '') {
      if (c.parentCode === c.code) {
        report(c.row.line, 'parentCode', 'a unit cannot be its own parent')
        continue
      }
      const pid = byCode.has(c.parentCode) ? idOf.get(c.parentCode) : storedByCode.get(c.parentCode)?.id
      if (pid === undefined) {
        // A parent whose own row is bad is reported on that row; don't pile a second problem on this one.
        if (!anyRowCodes.has(c.parentCode)) {
          report(c.row.line, 'parentCode', `unknown parent "${c.parentCode}" (not in the file nor stored)`)
        }
        continue
      }
      parentId = pid
    }
    if (c.kind === 'province' && parentId !== null) {
      report(c.row.line, 'parentCode', 'a province has no parent')
      continue
    }
    if (c.kind !== 'province' && parentId === null) {
      report(c.row.line, 'parentCode', `a ${c.kind} needs a parent code`)
      continue
    }
    const parentRank = parentId === null ? undefined : UNIT_KIND_RANK[kindOf.get(parentId) ?? '']
    const rank = UNIT_KIND_RANK[c.kind] as number
    if (parentRank !== undefined && parentRank >= rank) {
      report(c.row.line, 'parentCode', `a ${c.kind} cannot be under a ${kindOf.get(parentId as string)}`)
      continue
    }
    parentOf.set(id, parentId)
    planned.push({
      line: c.row.line,
      id,
      code: c.code,
      name: c.name,
      kind: c.kind,
      parentId,
      parentCode: c.parentCode || null,
    })
  }

  // 5. Cycles in the resulting tree (possible when stored units of other kinds are re-parented).
  for (const p of planned) {
    const seen = new Set<string>([p.id])
    let cur = parentOf.get(p.id) ?? null
    while (cur !== null) {
      if (seen.has(cur)) {
        report(p.line, 'parentCode', `"${p.parentCode}" makes a cycle in the unit tree`)
        break
      }
      seen.add(cur)
      cur = parentOf.get(cur) ?? null
    }
  }

  if (problems.length > 0) return { problems: problems.sort((a, b) => a.line - b.line) }

  // 6. The diff, creations ordered parents first (the foreign key is checked on each insert).
  const depth = (id: string): number => {
    let d = 0
    for (let cur = parentOf.get(id) ?? null; cur !== null; cur = parentOf.get(cur) ?? null) d++
    return d
  }
  const create: PlannedUnit[] = []
  const update: PlannedUpdate[] = []
  let unchanged = 0
  for (const p of planned) {
    const stored = storedById.get(p.id)
    if (!stored) {
      create.push(p)
      continue
    }
    const changes: PlannedUpdate['changes'] = {}
    if (stored.name !== p.name) changes.name = { from: stored.name, to: p.name }
    if (stored.kind !== p.kind) changes.kind = { from: stored.kind, to: p.kind }
    if (stored.parentId !== p.parentId) changes.parentId = { from: stored.parentId, to: p.parentId }
    if (stored.code !== p.code) changes.code = { from: stored.code, to: p.code }
    if (Object.keys(changes).length > 0) update.push({ ...p, changes })
    else unchanged++
  }
  create.sort((a, b) => depth(a.id) - depth(b.id) || a.line - b.line)
  return { plan: { create, update, unchanged } }
}
