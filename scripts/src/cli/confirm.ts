import readline from 'node:readline/promises'
import { usageError } from './exit.js'

/** Asks on the terminal; without one (a script), refuses unless the caller passed --yes. */
export async function confirm(question: string, yes: boolean | undefined): Promise<boolean> {
  if (yes) return true
  if (!process.stdin.isTTY) {
    throw usageError('Cần --yes khi không chạy trên terminal / --yes is required when not on a terminal')
  }
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr })
  try {
    const answer = await rl.question(`${question} [y/N] `)
    return /^(y|yes|c|có|co)$/i.test(answer.trim())
  } finally {
    rl.close()
  }
}
