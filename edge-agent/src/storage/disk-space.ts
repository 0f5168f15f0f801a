import { statfsSync } from 'node:fs'
import { statfs } from 'node:fs/promises'

/** Size and room left (for an unprivileged process) of the file system holding `dir`. */
export async function diskSpace(dir: string): Promise<{ total: number; free: number }> {
  const s = await statfs(dir)
  return { total: s.blocks * s.bsize, free: s.bavail * s.bsize }
}

/** Room left on the file system holding `dir`, synchronously (at start, before anything else runs); unknown: ∞. */
export function freeBytesSync(dir: string): number {
  try {
    const s = statfsSync(dir)
    return s.bavail * s.bsize
  } catch {
    return Number.POSITIVE_INFINITY
  }
}
