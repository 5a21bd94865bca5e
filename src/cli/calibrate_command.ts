// vrange-lab calibrate: measures this host's hardware profile (src/hw) with the native harness's
// microbenchmarks and writes it where --hw-profile host finds it (or to --out).

import type { Command } from 'commander';
import { hostProfilePath } from '../hw/cache.js';
import { formatHwProfile } from '../hw/profile.js';
import { calibrate } from '../real/calibrate.js';
import { integer } from './options.js';
import { guarded, realSubcommand } from './real_command.js';

export function calibrateCommand(): Command {
  const command = realSubcommand('calibrate')
    .description(
      "measures this host's hardware event costs (syscall, fault, IPI, TLB refill, dirty-bit assist) with the native harness's microbenchmarks and writes the hardware profile that --hw-profile host uses",
    )
    .option('--out <file>', `where to write the profile (default: ${hostProfilePath()})`)
    .option('--repetitions <n>', 'repetitions of each microbenchmark', integer(1, 101), 7)
    .option('--json', 'print the profile as JSON', false);
  return command.action(async (o: { out?: string; repetitions: number; json: boolean }) =>
    guarded(command, async () => {
      const c = await calibrate(o.repetitions, o.out);
      if (o.json) {
        console.log(JSON.stringify(c.profile, null, 2));
        return;
      }
      console.log(formatHwProfile(c.profile).join('\n'));
      console.log(`written to ${c.file}`);
    }),
  );
}
