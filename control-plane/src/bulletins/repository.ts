import type { Bulletin, Delivery, DeliveryState, Playlist, Programme, UnitSettings } from './model.js'

/** Storage of bulletins, playlists and the workflow (inbox, programmes, unit settings), storage-neutral. */

export interface ContentRepository {
  createBulletin(b: Omit<Bulletin, 'createdAt'>): Promise<Bulletin>
  /** draft → approved; false if it was not a draft. */
  approveBulletin(id: string, by: string, at: string): Promise<boolean>
  /** approved → draft again: an approval refused after the fact (its schedules would break a desired-state limit). */
  revokeApproval(id: string): Promise<void>
  /** Replaces a playlist's items (reordering a programme). */
  setPlaylistItems(id: string, bulletinIds: string[]): Promise<void>
  getBulletin(id: string): Promise<Bulletin | null>
  listBulletins(): Promise<Bulletin[]>
  createPlaylist(p: Omit<Playlist, 'createdAt'>): Promise<Playlist>
  getPlaylist(id: string): Promise<Playlist | null>
  listPlaylists(): Promise<Playlist[]>
}

export interface DeliveryQuery {
  toUnitIds?: string[]
  fromUnitIds?: string[]
  bulletinId?: string
  state?: DeliveryState
  limit: number
}

export interface WorkflowRepository {
  getSettings(unitId: string): Promise<UnitSettings | null>
  putSettings(s: Omit<UnitSettings, 'updatedAt'>): Promise<UnitSettings>
  createDeliveries(ds: Delivery[]): Promise<void>
  getDelivery(id: string): Promise<Delivery | null>
  listDeliveries(q: DeliveryQuery): Promise<Delivery[]>
  /** Compare-and-set on `state`: false if the delivery was no longer in `from` (decided twice, concurrently). */
  decideDelivery(
    id: string,
    from: DeliveryState,
    patch: Pick<Delivery, 'state' | 'decidedBy' | 'decidedAt'> &
      Partial<Pick<Delivery, 'reason' | 'programmeId' | 'alertId'>>,
  ): Promise<boolean>
  createProgramme(p: Omit<Programme, 'createdAt'>): Promise<Programme>
  getProgramme(id: string): Promise<Programme | null>
  findProgramme(unitId: string, startsAt: string): Promise<Programme | null>
  listProgrammes(q: { unitIds: string[]; from: string; to: string }): Promise<Programme[]>
  /** A programme's schedule was moved in the calendar. */
  moveProgrammeOf(scheduleId: string, startsAt: string): Promise<void>
}
