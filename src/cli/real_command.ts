// vrange-lab real: the same workloads on the host kernel through the native harness (src/real).
// Bad input, a policy the real kernel lacks, and a harness that is not built end with one line and
// exit status 2.

import os from 'node:os';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import type { PurgePolicy } from '../experiment/types.js';
import { PAGE_SIZE } from '../layout/layout.js';
import {
  HarnessMissingError,
  HarnessUsageError,
  noRealCounterpart,
  REAL_POLICIES,
  type RealPolicy,
  type RealRunConfig,
  renderMicro,
  renderRealRun,
  runRealEbizzy,
  runRealMicro,
} from '../real/index.js';
import { addEbizzyOptions, type EbizzyCliOptions, ebizzyOptionsFrom } from './ebizzy_options.js';
import { integer } from './options.js';

/** --policy of the real commands: vrange and vma are refused with the reason, never substituted. */
export function realPolicy(text: string): RealPolicy {
  const why = noRealCounterpart(text as PurgePolicy);
  if (why !== null) throw new InvalidArgumentError(why);
  if (!(REAL_POLICIES as readonly string[]).includes(text))
    throw new InvalidArgumentError(`expected one of ${REAL_POLICIES.join(', ')}, got "${text}"`);
  return text as RealPolicy;
}

/** Commander's errors (not help) exit 2 with their one line; help still exits 0. */
function usageExit(error: CommanderError): never {
  throw new CommanderError(error.exitCode === 0 ? 0 : 2, error.code, error.message);
}

/** A real command: one-line errors, exit status 2 for bad input and a missing harness. */
export function realSubcommand(name: string): Command {
  return new Command(name).exitOverride(usageExit).showHelpAfterError(false);
}

/** Runs an action; a usage problem (its own check, the harness's, a missing harness) exits 2. */
export async function guarded(command: Command, action: () => Promise<void>): Promise<void> {
  try {
    await action();
  } catch (error) {
    if (
      error instanceof HarnessMissingError ||
      error instanceof HarnessUsageError ||
      error instanceof RangeError
    )
      command.error(`vrange-lab: ${error.message}`, { exitCode: 2, code: 'vrange-lab.usage' });
    throw error;
  }
}

export function realConfigFrom(o: EbizzyCliOptions & { policy: RealPolicy }): RealRunConfig {
  if (o.chunkSize % PAGE_SIZE !== 0)
    throw new RangeError(
      `-s: the chunk size must be a multiple of the ${PAGE_SIZE}-byte page, got ${o.chunkSize}`,
    );
  if (o.alwaysMmap && o.neverMmap)
    throw new RangeError('-m (always mmap) and -M (never mmap) exclude each other');
  return {
    ebizzy: ebizzyOptionsFrom(o, 2 * os.availableParallelism()),
    policy: o.policy,
    processes: o.processes,
    lgDirtyMult: o.lgDirtyMult,
    seed: o.seed,
  };
}

function realEbizzyCommand(): Command {
  const command = addEbizzyOptions(
    realSubcommand('ebizzy')
      .description(
        'ebizzy on the host kernel (native threads; forked processes for --processes): records/s, /proc/vmstat deltas',
      )
      .requiredOption(
        '--policy <policy>',
        `purge policy: ${REAL_POLICIES.join(', ')} (vmaflag: the analogue of vma; vrange has no real counterpart)`,
        realPolicy,
      )
      .option('--json', 'print the result as JSON', false),
    {},
    false,
  );
  return command.action(async (o: EbizzyCliOptions & { policy: RealPolicy; json: boolean }) =>
    guarded(command, async () => {
      const result = await runRealEbizzy(realConfigFrom(o));
      console.log(o.json ? JSON.stringify(result, null, 2) : renderRealRun(result));
    }),
  );
}

function realMicroCommand(): Command {
  const command = realSubcommand('micro')
    .description(
      'per-operation costs on the host kernel: null syscall, faults, MADV_DONTNEED/MADV_FREE, mprotect with and without a remote thread, WIPEONFORK+KEEPONFORK, futex ping-pong',
    )
    .option('--repetitions <n>', 'repetitions of each measurement', integer(1, 101), 7)
    .option('--json', 'print the result as JSON', false);
  return command.action(async (o: { repetitions: number; json: boolean }) =>
    guarded(command, async () => {
      const result = await runRealMicro(o.repetitions);
      console.log(o.json ? JSON.stringify(result, null, 2) : renderMicro(result));
    }),
  );
}

export function realCommand(): Command {
  return new Command('real')
    .description(
      'the same workloads on the host kernel, through the native harness (built by npm install; `npm run build:native`)',
    )
    .addCommand(realEbizzyCommand())
    .addCommand(realMicroCommand());
}
