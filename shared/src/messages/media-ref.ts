import { type Static, Type } from '@sinclair/typebox'
import { Sha256Hex } from '../common.js'

/** One audio file the device must hold. `url` is absolute, or relative to the agent's control-plane URL. */
export const MediaRef = Type.Object({
  sha256: Sha256Hex,
  size: Type.Integer({ minimum: 1, maximum: 2 ** 40 }),
  url: Type.String({ minLength: 1, maxLength: 2048 }),
  mime: Type.String({ maxLength: 64 }),
  durationMs: Type.Integer({ minimum: 0 }),
})
export type MediaRef = Static<typeof MediaRef>
