// One subcommand of `stripe-flows`: its name, a one-line summary for the command list, its full
// usage for `--help`, and what it does. A command reports a user error by throwing CliError.
import { parseArgs, type ParseArgsConfig } from 'node:util';

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

type CommandOptions = NonNullable<ParseArgsConfig['options']>;
/** What parseArgs gives for these options, positionals allowed, strict. */
export type ParsedCommandArgs<O extends CommandOptions> = ReturnType<typeof parseArgs<{ args: string[]; options: O; allowPositionals: true; strict: true }>>;

/** Parses a command's arguments; a bad option is a usage error (exit 2) pointing at its --help. */
export function parseCommandArgs<O extends CommandOptions>(command: string, args: string[], options: O): ParsedCommandArgs<O> {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    const message = (error as Error).message.replace(/\. To specify a positional argument.*$/s, '');
    const unknown = /Unknown option '([^']+)'/.exec(message)?.[1];
    throw new CliError(unknown ? `Unknown option ${unknown} for ${command}. Try: stripe-flows ${command} --help` : `${message}. Try: stripe-flows ${command} --help`, 2);
  }
}
