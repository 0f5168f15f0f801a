import type { Media } from './model.js'

/** Storage of media, storage-neutral (see repositories.ts). */

export interface MediaRepository {
  insert(media: Media, sourceSha256: string): Promise<{ media: Media; existed: boolean }>
  get(sha256: string): Promise<Media | null>
  getBySource(sourceSha256: string): Promise<Media | null>
  list(): Promise<Media[]>
  /** Records that a unit (null: the whole province) brought this media in (uploaded or spoke it). */
  addOwner(sha256: string, unitId: string | null): Promise<void>
  /** The media owned by the province or by one of these units. */
  ownedWithin(unitIds: readonly string[]): Promise<Set<string>>
}
