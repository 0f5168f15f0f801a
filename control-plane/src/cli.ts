// What the `loa` CLI (scripts/src/cli) uses, as `@loa/control-plane/cli`: light modules only, so a CLI command does
// not load the whole control plane (the root export does).
export { initDataDir } from './bootstrap.js'
export { nameProblem, normalizeText } from './org/units-import.js'
export { type BackupResult, createBackup, type RestoreResult, restoreBackup } from './storage/backup.js'
export { BackupError, type BackupErrorCode, type BackupManifest } from './storage/backup-files.js'
