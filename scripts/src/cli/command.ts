import type { Command } from 'commander'
import { Api, type GlobalOptions, resolveConnection } from './api.js'
import { Output } from './output.js'

export interface Ctx {
  out: Output
  globals: GlobalOptions
  /** The control-plane client, from flags / env / profile (resolved only when a command needs it). */
  api(): Api
}

/**
 * Wraps a subcommand's action: builds its context, and turns a thrown CliError (or anything) into the message,
 * the `--json` error document and the exit code. The action may return its exit code (default 0).
 */
export function action<T extends unknown[]>(
  fn: (ctx: Ctx, ...args: T) => Promise<unknown>,
): (...args: unknown[]) => Promise<void> {
  return async (...args: unknown[]) => {
    const cmd = args[args.length - 1] as Command
    const globals = cmd.optsWithGlobals() as GlobalOptions
    const out = new Output(globals.json === true)
    let api: Api | null = null
    const ctx: Ctx = {
      out,
      globals,
      api: () => {
        api ??= new Api(resolveConnection(globals))
        return api
      },
    }
    try {
      const code = await fn(ctx, ...(args.slice(0, -1) as T))
      process.exitCode = typeof code === 'number' ? code : 0
    } catch (err) {
      process.exitCode = out.error(err)
    }
  }
}

/** The "Ví dụ / Examples" block every command's --help ends with. */
export function examples(...lines: string[]): string {
  return `\nVí dụ / Examples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`
}
