// The benchmarks' command lines: --help, and a one-line reason and a non-zero exit for a bad or
// unknown option, before anything is measured or written. The value checks are the CLI's own.

import { Command, CommanderError } from 'commander';

/**
 * Parses this process's arguments with the options `configure` declares, plus `--no-write` (the
 * `write` option, for saveResults()) for a benchmark that writes bench/results/. `--help` prints the
 * usage and exits 0; an unknown option, a stray argument or a bad value exits 1 with the reason.
 * Returns the parsed options and positional arguments (parsed, defaults filled in).
 */
export function benchCommandLine<Options>(
  name: string,
  description: string,
  configure: (command: Command) => Command = (command) => command,
  { writesResults = true } = {},
): { options: Options; args: unknown[] } {
  const command = configure(new Command(name).description(description));
  if (writesResults) command.option('--no-write', 'print the results without writing bench/results/');
  command.showHelpAfterError('(add --help for usage)').exitOverride();
  try {
    command.parse(process.argv);
  } catch (error) {
    // Commander has printed the help or the reason already.
    if (error instanceof CommanderError) process.exit(error.exitCode);
    throw error;
  }
  return { options: command.opts<Options & Record<string, unknown>>(), args: command.processedArgs };
}
