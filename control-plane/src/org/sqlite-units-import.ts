import type { Db } from '../storage/db.js'
import type { UnitImportRepository } from './repository.js'
import { toUnit, type UnitRow } from './sqlite.js'
import { type ImportPlan, type ImportProblem, planUnitImport } from './units-import.js'

/** Plans and applies a unit import in one SQLite transaction: it all lands, or nothing does. */
export function sqliteUnitImport(db: Db): UnitImportRepository {
  const all = db.prepare('SELECT * FROM units')
  const insert = db.prepare(
    'INSERT INTO units (id, parent_id, name, kind, code, created_at) VALUES (?, ?, ?, ?, ?, ?)',
  )
  const update = db.prepare('UPDATE units SET parent_id = ?, name = ?, kind = ?, code = ? WHERE id = ?')
  const run = db.transaction((rows: Parameters<UnitImportRepository['importUnits']>[0], dryRun: boolean) => {
    const existing = (all.all() as UnitRow[]).map(toUnit)
    const result = planUnitImport(existing, rows)
    if ('problems' in result || dryRun) return result
    const now = new Date().toISOString()
    for (const u of result.plan.create) insert.run(u.id, u.parentId, u.name, u.kind, u.code, now)
    for (const u of result.plan.update) update.run(u.parentId, u.name, u.kind, u.code, u.id)
    return result
  })
  return {
    async importUnits(rows, dryRun): Promise<{ plan: ImportPlan } | { problems: ImportProblem[] }> {
      // `immediate`: take the write lock before reading, so the plan is made against what it is applied to.
      return run.immediate(rows, dryRun)
    },
  }
}
