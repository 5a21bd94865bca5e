#!/usr/bin/env node
// vrange-lab: the command line. Bad options end with a one-line reason and a non-zero exit.

import { Command, CommanderError } from 'commander';
import { calibrateCommand } from './calibrate_command.js';
import { compareCommand, ebizzyCommand, mergeCommand, sweepCommand } from './commands.js';
import { fidelityCommand } from './fidelity_command.js';
import { realCommand } from './real_command.js';
import { stressCommand } from './stress_command.js';

const program = new Command('vrange-lab')
  .description(
    'How Linux frees anonymous memory under SMP concurrency: vrange, mvolatile, MADV_DONTNEED and MADV_FREE on a simulated SMP machine',
  )
  .showHelpAfterError('(add --help for usage)')
  .exitOverride();

for (const command of [
  ebizzyCommand(),
  compareCommand(),
  sweepCommand(),
  mergeCommand(),
  stressCommand(),
  realCommand(),
]) {
  program.addCommand(command.exitOverride().showHelpAfterError('(add --help for usage)'));
}

// The native-harness commands exit 2 on bad input (their own exitOverride), like `real`'s.
program.addCommand(calibrateCommand());
program.addCommand(fidelityCommand());

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // Commander printed its message (or the help); help and version exit 0.
    process.exitCode = error.exitCode;
  } else {
    console.error(`vrange-lab: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
    process.exitCode = 1;
  }
}
