import { CliError, EXIT } from './exit.js'

/**
 * How a command speaks. Human text goes to stdout by default; with `--json` stdout carries exactly one JSON
 * document (the result, or `{ "error": … }`) and everything else goes to stderr.
 */
export class Output {
  constructor(
    readonly json: boolean,
    private readonly stdout: NodeJS.WriteStream = process.stdout,
    private readonly stderr: NodeJS.WriteStream = process.stderr,
  ) {}

  /** Progress bars and spinners only make sense for a person watching a terminal. */
  get interactive(): boolean {
    return !this.json && this.stdout.isTTY === true
  }

  /** Prints the command's result: the document with --json, else the human lines. */
  result(doc: unknown, human: () => string | string[]): void {
    if (this.json) {
      this.stdout.write(`${JSON.stringify(doc, null, 2)}\n`)
      return
    }
    const text = human()
    const lines = Array.isArray(text) ? text : [text]
    if (lines.length > 0) this.stdout.write(`${lines.join('\n')}\n`)
  }

  /** A line for the human only (to stderr under --json, so stdout stays one document). */
  info(line: string): void {
    ;(this.json ? this.stderr : this.stdout).write(`${line}\n`)
  }

  warn(line: string): void {
    this.stderr.write(`${line}\n`)
  }

  /** Reports an error on stderr (and as the JSON document) and returns the exit code to use. */
  error(err: unknown): number {
    const e =
      err instanceof CliError
        ? err
        : new CliError(
            'LOA_CLI_INTERNAL',
            `Lỗi không mong đợi / unexpected error: ${String(err)}`,
            EXIT.internal,
          )
    this.stderr.write(`loa: ${e.message}\n`)
    if (this.json) {
      const error = { code: e.code, message: e.message, exitCode: e.exitCode }
      this.stdout.write(
        `${JSON.stringify({ error: e.details === undefined ? error : { ...error, details: e.details } }, null, 2)}\n`,
      )
    }
    return e.exitCode
  }
}
