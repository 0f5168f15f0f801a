/**
 * Exit codes of `loa`, stable for scripts (documented in docs/cli.md). BSD sysexits where one fits, so a
 * wrapper can tell "you called it wrong" from "the control plane said no" from "some of it failed".
 */
export const EXIT = {
  ok: 0,
  /** The operation ran and its outcome is a failure (a test command failed or expired). */
  failed: 1,
  /** Some items succeeded and some failed (provisioning many devices). */
  partial: 2,
  /** Bad command line. */
  usage: 64,
  /** Bad input data: CSV problems, a request the control plane rejected as invalid, a conflict. */
  data: 65,
  /** An input file is missing or unreadable. */
  noInput: 66,
  /** The named device, unit or command does not exist. */
  notFound: 67,
  /** The control plane cannot be reached or is unavailable. */
  unavailable: 69,
  /** The control plane failed internally, or answered something unexpected. */
  internal: 70,
  /** An output file or directory cannot be created, or already exists and is not overwritten. */
  cantCreate: 73,
  /** Waited too long (a test command without a final acknowledgement). */
  timeout: 75,
  /** Not authenticated or not allowed. */
  auth: 77,
} as const
export type ExitCode = (typeof EXIT)[keyof typeof EXIT]

/** An error the CLI reports and exits with: a stable code, a bilingual message, an exit code. */
export class CliError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly exitCode: ExitCode,
    /** Machine-readable detail (e.g. CSV problems by line), included in --json output. */
    readonly details?: unknown,
  ) {
    super(message)
    this.name = 'CliError'
  }
}

export const usageError = (message: string): CliError => new CliError('LOA_CLI_USAGE', message, EXIT.usage)
