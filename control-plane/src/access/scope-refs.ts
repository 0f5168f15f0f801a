import type { Bulletin, Playlist } from '../bulletins/model.js'
import type { Services } from '../context.js'
import type { Media } from '../media/model.js'
import type { Station } from '../org/model.js'
import type { Actor } from './actor.js'
import { scopeUnitIds } from './policy.js'

/**
 * The scope of what a request *refers to* (docs/users-and-roles.md, "Scope"): bulletins, playlists, media and
 * stations named by id in a body or a query are looked up through these, which answer null for anything outside
 * the caller's scope exactly as for something that does not exist. So a commune operator cannot use another
 * commune's bulletin in a playlist, a schedule, an alert or a fallback, nor learn that it exists; and lists are
 * filtered by the same predicates.
 */

/** A bulletin of the actor's scope, province-wide (no unit), or sent to a unit of its scope. */
export async function bulletinVisible(
  s: Pick<Services, 'repos'>,
  actor: Actor,
  b: Bulletin,
): Promise<boolean> {
  const scope = await scopeUnitIds(s, actor)
  if (scope === null || !b.unitId || scope.has(b.unitId)) return true
  const sent = await s.repos.workflow.listDeliveries({ bulletinId: b.id, toUnitIds: [...scope], limit: 1 })
  return sent.length > 0
}

export async function visibleBulletin(
  s: Pick<Services, 'repos'>,
  actor: Actor,
  id: string,
): Promise<Bulletin | null> {
  const b = await s.repos.content.getBulletin(id)
  return b && (await bulletinVisible(s, actor, b)) ? b : null
}

/** A playlist of the actor's scope (or province-wide) whose every bulletin the actor may see. */
export async function playlistVisible(
  s: Pick<Services, 'repos'>,
  actor: Actor,
  p: Playlist,
): Promise<boolean> {
  const scope = await scopeUnitIds(s, actor)
  if (scope === null) return true
  if (p.unitId && !scope.has(p.unitId)) return false
  for (const id of p.bulletinIds) if (!(await visibleBulletin(s, actor, id))) return false
  return true
}

export async function visiblePlaylist(
  s: Pick<Services, 'repos'>,
  actor: Actor,
  id: string,
): Promise<Playlist | null> {
  const p = await s.repos.content.getPlaylist(id)
  return p && (await playlistVisible(s, actor, p)) ? p : null
}

/**
 * Media the actor may see and use, by hash; null = all of it (unrestricted actor). A scoped actor sees media its
 * subtree (or the province) brought in, and the media of every bulletin it may see.
 */
export async function visibleMediaHashes(
  s: Pick<Services, 'repos'>,
  actor: Actor,
): Promise<Set<string> | null> {
  const scope = await scopeUnitIds(s, actor)
  if (scope === null) return null
  const owned = await s.repos.media.ownedWithin([...scope])
  for (const b of await s.repos.content.listBulletins()) {
    if (!owned.has(b.mediaSha256) && (await bulletinVisible(s, actor, b))) owned.add(b.mediaSha256)
  }
  return owned
}

export async function visibleMedia(
  s: Pick<Services, 'repos'>,
  actor: Actor,
  sha256: string,
): Promise<Media | null> {
  const m = await s.repos.media.get(sha256)
  if (!m) return null
  const scope = await scopeUnitIds(s, actor)
  if (scope === null || (await s.repos.media.ownedWithin([...scope])).has(sha256)) return m
  for (const b of await s.repos.content.listBulletins()) {
    if (b.mediaSha256 === sha256 && (await bulletinVisible(s, actor, b))) return m
  }
  return null
}

/** Who owns media the actor brings in: its scope unit, or the province (null) for an unrestricted actor. */
export async function mediaOwnerOf(s: Pick<Services, 'repos'>, actor: Actor): Promise<string | null> {
  return (await scopeUnitIds(s, actor)) === null ? null : actor.scopeUnitId
}

export async function visibleStation(
  s: Pick<Services, 'repos'>,
  actor: Actor,
  id: string,
): Promise<Station | null> {
  const st = await s.repos.stations.get(id)
  if (!st) return null
  const scope = await scopeUnitIds(s, actor)
  return scope === null || scope.has(st.unitId) ? st : null
}

/** Bulletins and media as the actor sees them: what alert and playlist inputs are resolved through. */
export interface ContentLookup {
  bulletin(id: string): Promise<Bulletin | null>
  media(sha256: string): Promise<Media | null>
}

export function visibleContent(s: Pick<Services, 'repos'>, actor: Actor): ContentLookup {
  return {
    bulletin: (id) => visibleBulletin(s, actor, id),
    media: (sha) => visibleMedia(s, actor, sha),
  }
}
