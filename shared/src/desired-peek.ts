/**
 * Reads `body.version` of a desired-state payload from its first bytes, without parsing the rest: the control
 * plane writes the envelope's scalar fields first and `version` first in the body (control-plane/src/desired/service.ts), so it sits
 * in the first few hundred bytes whatever the state's size. The agent drops a state not newer than the one it holds
 * on this alone, before parsing, validating or verifying it. Returns null whenever the prefix is not what it
 * expects (a nested value before it, anything odd, or past PEEK_BYTES): the caller then takes the full path. A
 * peek never lets anything through that the full path would refuse; at worst a forged prefix gets a message
 * dropped that its signature would have refused anyway.
 */
export const PEEK_BYTES = 4096

const WS = new Set([0x20, 0x09, 0x0a, 0x0d])
const QUOTE = 0x22
const BACKSLASH = 0x5c

class Cursor {
  i = 0
  constructor(
    readonly b: Buffer,
    readonly end: number,
  ) {}

  ws(): void {
    while (this.i < this.end && WS.has(this.b[this.i] as number)) this.i++
  }

  /** Consumes one byte if it is `c`. */
  eat(c: number): boolean {
    this.ws()
    if (this.i < this.end && this.b[this.i] === c) {
      this.i++
      return true
    }
    return false
  }

  /** A JSON string's raw text (escapes kept); null if unterminated within the window. */
  string(): string | null {
    if (!this.eat(QUOTE)) return null
    const start = this.i
    while (this.i < this.end) {
      const c = this.b[this.i] as number
      if (c === BACKSLASH) this.i += 2
      else if (c === QUOTE) return this.b.toString('utf8', start, this.i++)
      else this.i++
    }
    return null
  }

  /** Skips a scalar (string, number, true/false/null); false for an object or array, or anything malformed. */
  scalar(): boolean {
    this.ws()
    const c = this.b[this.i]
    if (c === QUOTE) return this.string() !== null
    const start = this.i
    while (
      this.i < this.end &&
      !WS.has(this.b[this.i] as number) &&
      !',}]'.includes(String.fromCharCode(this.b[this.i] as number))
    ) {
      this.i++
    }
    const word = this.b.toString('latin1', start, this.i)
    return /^(-?\d+(\.\d+)?([eE][+-]?\d+)?|true|false|null)$/.test(word)
  }

  /** A non-negative integer literal. */
  integer(): number | null {
    this.ws()
    const start = this.i
    while (this.i < this.end && (this.b[this.i] as number) >= 0x30 && (this.b[this.i] as number) <= 0x39)
      this.i++
    if (this.i === start || this.i - start > 15) return null
    const next = this.b[this.i]
    if (next === 0x2e || next === 0x65 || next === 0x45) return null
    return Number(this.b.toString('latin1', start, this.i))
  }
}

/** `body.version` if the payload's first PEEK_BYTES show it plainly; null otherwise. */
export function peekDesiredVersion(payload: Buffer): number | null {
  const c = new Cursor(payload, Math.min(payload.length, PEEK_BYTES))
  if (!c.eat(0x7b)) return null
  for (let first = true; ; first = false) {
    if (!first && !c.eat(0x2c)) return null
    const key = c.string()
    if (key === null || !c.eat(0x3a)) return null
    if (key !== 'body') {
      if (!c.scalar()) return null
      continue
    }
    if (!c.eat(0x7b)) return null
    for (let firstInBody = true; ; firstInBody = false) {
      if (!firstInBody && !c.eat(0x2c)) return null
      const k = c.string()
      if (k === null || !c.eat(0x3a)) return null
      if (k === 'version') return c.integer()
      if (!c.scalar()) return null
    }
  }
}
