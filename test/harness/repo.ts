import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The repository root, wherever the tests run from. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const CONTROL_PLANE_MAIN = resolve(REPO_ROOT, 'control-plane/dist/main.js')
export const AGENT_MAIN = resolve(REPO_ROOT, 'edge-agent/dist/main.js')
