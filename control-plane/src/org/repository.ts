import type { Cluster, ClusterInput, Station, Unit } from './model.js'
import type { ImportPlan, ImportProblem, ImportRow } from './units-import.js'

/** Storage of the administrative tree, its stations and clusters, storage-neutral (see repositories.ts). */

export interface UnitRepository {
  create(unit: Omit<Unit, 'createdAt'>): Promise<Unit>
  get(id: string): Promise<Unit | null>
  list(): Promise<Unit[]>
  /** The unit and all its descendants. */
  subtreeIds(id: string): Promise<string[]>
}

export interface StationRepository {
  create(station: Omit<Station, 'createdAt'>): Promise<Station>
  list(): Promise<Station[]>
  get(id: string): Promise<Station | null>
}

export interface ClusterFilter {
  unitIds?: string[]
  tag?: string
}

export interface ClusterRepository {
  create(input: ClusterInput): Promise<Cluster>
  update(id: string, patch: Partial<Omit<ClusterInput, 'id'>>): Promise<Cluster | null>
  get(id: string): Promise<Cluster | null>
  list(filter?: ClusterFilter): Promise<Cluster[]>
  /** Configuration of all clusters (or of `ids`), for batch recomputation. */
  listInputs(ids?: string[]): Promise<ClusterInput[]>
  exists(ids: string[]): Promise<Set<string>>
  setOnline(id: string, online: boolean, at: string): Promise<boolean>
  /** Marks online devices not heard since `before` offline and returns their ids. */
  markStaleOffline(before: string): Promise<string[]>
  counts(): Promise<{ total: number; online: number }>
}

export interface UnitImportRepository {
  /** Plans the import against the stored units and, unless a dry run or there are problems, applies it atomically. */
  importUnits(
    rows: ImportRow[],
    dryRun: boolean,
  ): Promise<{ plan: ImportPlan } | { problems: ImportProblem[] }>
}
