import { describe, expect, it } from 'vitest'
import { cliEnv, runCli } from '../../test-kit/cli.js'

/** Sub-command names listed under "Commands:" in a help text (commander's layout), without `help`. */
function subcommands(help: string): string[] {
  const at = help.indexOf('\nCommands:\n')
  if (at < 0) return []
  const names: string[] = []
  for (const line of help.slice(at + 11).split('\n')) {
    if (line.trim() === '') break
    const m = /^ {2}([a-z][a-z-]*)/.exec(line)
    if (m?.[1] && m[1] !== 'help') names.push(m[1])
  }
  return names
}

describe('loa --help', { timeout: 180_000 }, () => {
  it('every command, found by walking the help itself, has help with examples and exits 0', async () => {
    const { env } = cliEnv()
    const seen: string[] = []
    const walk = async (path: string[]): Promise<void> => {
      const r = await runCli([...path, '--help'], { env })
      expect(r.code, path.join(' ')).toBe(0)
      expect(r.stdout, path.join(' ')).toContain('Ví dụ / Examples')
      seen.push(path.join(' '))
      for (const sub of subcommands(r.stdout)) await walk([...path, sub])
    }
    await walk([])
    expect(seen).toEqual(
      expect.arrayContaining([
        'init',
        'units import',
        'devices provision',
        'devices test',
        'ca issue device',
        'tokens revoke',
        'keys rotate',
        'mosquitto export',
        'login',
        'backup',
        'restore',
      ]),
    )
    const unknown = await runCli(['--json', 'nope'], { env })
    expect(unknown.code).toBe(64)
    expect(unknown.json<{ error: { code: string } }>().error.code).toBe('LOA_CLI_USAGE')
  })
})
