// One subcommand of `stripe-flows`: its name, a one-line summary for the command list, its full
// usage for `--help`, and what it does. A command reports a user error by throwing CliError.
export interface Command {
  name: string;
  summary: string;
  /** Printed by `stripe-flows <name> --help`: usage line, options, examples. */
  usage: string;
  /** Runs with the arguments after the command name; resolves to the exit code (default 0). */
  run(args: string[]): Promise<number | void>;
}

/** A mistake the user can fix (bad option, unreachable receiver): printed without a stack trace. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}
