import { statSync, unlinkSync } from 'node:fs'
import { open, rename, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { diskSpace } from './disk-space.js'

const CHUNK = 1024 * 1024

/**
 * Room set aside on the data disk for the play log and the outbox: a file of zeros (`<dataDir>/disk-reserve`,
 * really allocated: written, not sparse), deleted the moment SQLite or a write finds the disk full, so the plays
 * being recorded then still fit, and written again once the disk has room.
 */
export class DiskReserve {
  readonly path: string

  constructor(
    dataDir: string,
    readonly bytes: number,
  ) {
    this.path = join(dataDir, 'disk-reserve')
  }

  present(): boolean {
    try {
      return statSync(this.path).size >= this.bytes
    } catch {
      return false
    }
  }

  /** Gives the room back to the disk, at once (synchronous: the write that failed is retried right after). */
  release(): number {
    try {
      const size = statSync(this.path).size
      unlinkSync(this.path)
      return size
    } catch {
      return 0
    }
  }

  /**
   * Sets the room aside again if the disk has it to spare beyond `keepFree`; returns whether the reserve is in place.
   * Written to a temporary name and renamed, so a half-written reserve is never taken for a whole one.
   */
  async ensure(keepFree: number): Promise<boolean> {
    if (this.bytes <= 0) return true
    if (this.present()) return true
    if ((await diskSpace(join(this.path, '..'))).free < this.bytes + keepFree) return false
    const tmp = `${this.path}.part`
    const zeros = Buffer.alloc(Math.min(CHUNK, this.bytes))
    const fh = await open(tmp, 'w')
    try {
      for (let written = 0; written < this.bytes; written += zeros.length) {
        await fh.write(zeros, 0, Math.min(zeros.length, this.bytes - written))
      }
      await fh.sync()
    } catch (err) {
      await fh.close()
      await unlink(tmp).catch(() => {})
      if ((err as { code?: string }).code === 'ENOSPC') return false
      throw err
    }
    await fh.close()
    await rename(tmp, this.path)
    return true
  }
}
