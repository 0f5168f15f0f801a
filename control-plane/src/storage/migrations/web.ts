/**
 * Version 10 (docs/users-and-roles.md, "Scope"): playlists belong to a unit like bulletins, and media knows which
 * units brought it in, so both can be checked against a caller's scope when listed or referenced. In its own
 * file, like versions 6 and 7.
 */
export const WEB_SCOPE_MIGRATION = {
  version: 10,
  name: 'playlist units, media owners',
  sql: `
-- The unit a playlist belongs to (null: province-wide). Existing ones: their programme's unit, else the unit of
-- their first bulletin that has one.
ALTER TABLE playlists ADD COLUMN unit_id TEXT REFERENCES units(id) ON DELETE SET NULL;
UPDATE playlists SET unit_id = COALESCE(
  (SELECT p.unit_id FROM programmes p WHERE p.playlist_id = playlists.id LIMIT 1),
  (SELECT b.unit_id FROM playlist_items i JOIN bulletins b ON b.id = i.bulletin_id
    WHERE i.playlist_id = playlists.id AND b.unit_id IS NOT NULL ORDER BY i.position LIMIT 1));

-- Which units uploaded or spoke a media file (null: someone of the whole province). The same file uploaded by
-- two communes is stored once and owned by both.
CREATE TABLE media_owners (
  media_sha256 TEXT NOT NULL REFERENCES media(sha256) ON DELETE CASCADE,
  unit_id TEXT REFERENCES units(id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX media_owners_key ON media_owners(media_sha256, COALESCE(unit_id, ''));
-- Existing media: owned by the units of the bulletins made from it; media in no bulletin, by the province.
INSERT OR IGNORE INTO media_owners (media_sha256, unit_id) SELECT media_sha256, unit_id FROM bulletins;
INSERT OR IGNORE INTO media_owners (media_sha256, unit_id)
  SELECT sha256, NULL FROM media WHERE sha256 NOT IN (SELECT media_sha256 FROM bulletins);
`,
}
