import fs from 'node:fs'
import path from 'node:path'
import type { KeyLink } from '@loa/shared'
import {
  generateSigningKey,
  makeKeyLink,
  type PublicKeyInfo,
  type Signer,
  signEnvelope,
  signerFromPem,
} from '@loa/shared/signing'

export interface SigningKeyInfo extends PublicKeyInfo {
  createdAt: string
  retiredAt: string | null
  current: boolean
}

interface KeyFile {
  current: string
  keys: { keyId: string; publicKey: string; createdAt: string; retiredAt: string | null }[]
  chain: KeyLink[]
}

/** At most this many rotations fit in a signature's chain; a box pinned to an older key must be re-provisioned. */
export const MAX_CHAIN = 32

const DIR = 'signing'

/** Writes a file atomically (rename), so a power cut never leaves half a key behind. */
function writeAtomic(file: string, data: string, mode: number): void {
  const tmp = `${file}.tmp-${process.pid}`
  fs.writeFileSync(tmp, data, { mode })
  fs.renameSync(tmp, file)
}

/**
 * The control plane's Ed25519 signing keys, in `<dataDir>/signing/`: `keys.json` (public keys, which is current,
 * and the chain of key links) and the current private key `key-<keyId>.pem` (mode 0600). Rotation signs the new
 * key with the old one (a key link) and deletes the old private key.
 */
export class SigningKeys {
  private signer: Signer
  private file: KeyFile

  private constructor(private readonly dir: string) {
    this.file = SigningKeys.load(dir)
    this.signer = this.loadSigner()
  }

  /** Opens the key store, creating the first key if there is none. */
  static open(dataDir: string): SigningKeys {
    const dir = path.join(dataDir, DIR)
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 })
    if (!fs.existsSync(path.join(dir, 'keys.json'))) {
      const k = generateSigningKey()
      writeAtomic(path.join(dir, `key-${k.keyId}.pem`), k.privateKeyPem, 0o600)
      const file: KeyFile = {
        current: k.keyId,
        keys: [
          { keyId: k.keyId, publicKey: k.publicKey, createdAt: new Date().toISOString(), retiredAt: null },
        ],
        chain: [],
      }
      writeAtomic(path.join(dir, 'keys.json'), `${JSON.stringify(file, null, 2)}\n`, 0o644)
    }
    return new SigningKeys(dir)
  }

  private static load(dir: string): KeyFile {
    return JSON.parse(fs.readFileSync(path.join(dir, 'keys.json'), 'utf8')) as KeyFile
  }

  private loadSigner(): Signer {
    const pem = fs.readFileSync(path.join(this.dir, `key-${this.file.current}.pem`), 'utf8')
    const s = signerFromPem(pem, this.file.chain)
    if (s.keyId !== this.file.current)
      throw new Error(`signing key file does not hold key ${this.file.current}`)
    return s
  }

  /** The current public key: what a box pins at provisioning. */
  current(): PublicKeyInfo {
    return { keyId: this.signer.keyId, publicKey: this.signer.publicKey }
  }

  list(): SigningKeyInfo[] {
    return this.file.keys.map((k) => ({ ...k, current: k.keyId === this.file.current }))
  }

  chain(): KeyLink[] {
    return [...this.file.chain]
  }

  /** Signs an envelope with the current key, carrying the key chain once keys have been rotated. */
  sign<M extends Record<string, unknown>>(msg: M): M {
    return signEnvelope(msg, this.signer)
  }

  /** A new key, announced under the old one; the old private key is deleted. */
  rotate(): SigningKeyInfo {
    if (this.file.chain.length >= MAX_CHAIN) {
      throw new Error(`more than ${MAX_CHAIN} rotations: boxes pinned to the first key could not follow`)
    }
    const previous = this.signer
    const k = generateSigningKey()
    const now = new Date()
    const link = makeKeyLink(previous, k, now)
    writeAtomic(path.join(this.dir, `key-${k.keyId}.pem`), k.privateKeyPem, 0o600)
    const file: KeyFile = {
      current: k.keyId,
      keys: [
        ...this.file.keys.map((x) =>
          x.keyId === previous.keyId ? { ...x, retiredAt: now.toISOString() } : x,
        ),
        { keyId: k.keyId, publicKey: k.publicKey, createdAt: now.toISOString(), retiredAt: null },
      ],
      chain: [...this.file.chain, link],
    }
    writeAtomic(path.join(this.dir, 'keys.json'), `${JSON.stringify(file, null, 2)}\n`, 0o644)
    this.file = file
    this.signer = this.loadSigner()
    fs.rmSync(path.join(this.dir, `key-${previous.keyId}.pem`), { force: true })
    return this.list().find((x) => x.current) as SigningKeyInfo
  }
}

/** For the `loa` command line: rotate the key of a control plane that is not running. */
export function rotateSigningKey(dataDir: string): SigningKeyInfo {
  return SigningKeys.open(dataDir).rotate()
}

/** For the `loa` command line: the public key to pin in a new box's config. */
export function currentSigningKey(dataDir: string): PublicKeyInfo {
  return SigningKeys.open(dataDir).current()
}
