import { execFileSync } from 'node:child_process'
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs'
import { join } from 'node:path'

/**
 * A real small filesystem (tmpfs) mounted at `dir`, for
 * a data disk that fills up for real. False when this machine does not let us mount (not root).
 */
export function mountSmallDisk(dir: string, sizeMb: number): boolean {
  mkdirSync(dir, { recursive: true })
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m`, 'tmpfs', dir], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

/** Whether tmpfs can be mounted here at all (mounts and unmounts a probe). */
export function canMountSmallDisk(probeDir: string): boolean {
  if (!mountSmallDisk(probeDir, 1)) return false
  execFileSync('umount', [probeDir])
  return true
}

export function unmountSmallDisk(dir: string): void {
  execFileSync('umount', ['-l', dir])
}

/** Writes a filler file until the disk says ENOSPC (100 % full); delete the returned path to free it. */
export function fillDisk(dir: string): string {
  const filler = join(dir, 'filler')
  const fd = openSync(filler, 'w')
  for (const chunk of [1024 * 1024, 64 * 1024, 4096, 512]) {
    const buf = Buffer.alloc(chunk, 1)
    for (;;) {
      try {
        writeSync(fd, buf)
      } catch {
        break
      }
    }
  }
  closeSync(fd)
  return filler
}
