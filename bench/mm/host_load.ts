// The host check of bench:mm: how busy the host is with other work while the benchmark runs.

import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { sum } from './common.js';

// The host: is it quiet? Other work on it takes cores from the simulated CPUs.

/** Plain JS compute for ms milliseconds in a worker thread; posts the rounds it did. */
const SPIN_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const a = new Float64Array(1024);
const start = performance.now();
let rounds = 0;
while (performance.now() - start < workerData) {
  for (let i = 0; i < 1024; i++) a[i] = a[i] * 0.5 + i;
  rounds++;
}
parentPort.postMessage(rounds);
`;

function computeRounds(threads: number, ms: number): Promise<number[]> {
  return Promise.all(
    Array.from(
      { length: threads },
      () =>
        new Promise<number>((resolve, reject) => {
          const worker = new Worker(SPIN_SOURCE, { eval: true, workerData: ms });
          worker.once('message', (rounds: number) => {
            resolve(rounds);
            void worker.terminate();
          });
          worker.once('error', reject);
        }),
    ),
  );
}

/** All processes' CPU time on the host, in core-seconds (Linux /proc/stat, USER_HZ 100); null elsewhere. */
function hostBusySeconds(): number | null {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq ...
    return (fields[0] + fields[1] + fields[2] + fields[5] + fields[6]) / 100;
  } catch {
    return null;
  }
}

/** This process's CPU time, every thread, in seconds. */
function ownBusySeconds(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}

interface SectionLoad {
  section: string;
  wallSeconds: number;
  /** Cores kept busy outside this process during the section, on average: other processes, kernel
   *  threads, interrupts (null: not measurable). */
  otherCores: number | null;
}

/** Times the sections of a run and what else the host ran meanwhile. */
export class HostMeter {
  readonly sections: SectionLoad[] = [];
  private name = '';
  private wallMs = performance.now();
  private host = hostBusySeconds();
  private own = ownBusySeconds();

  start(section: string): void {
    this.end();
    this.name = section;
    console.error(`${section}...`);
  }

  end(): void {
    const wallMs = performance.now();
    const host = hostBusySeconds();
    const own = ownBusySeconds();
    if (this.name !== '') {
      const wallSeconds = (wallMs - this.wallMs) / 1000;
      const otherCores =
        host === null || this.host === null
          ? null
          : Math.max(0, host - this.host - (own - this.own)) / wallSeconds;
      this.sections.push({ section: this.name, wallSeconds, otherCores });
      console.error(
        `  ${wallSeconds.toFixed(1)} s${otherCores === null ? '' : `, ${otherCores.toFixed(2)} cores busy outside this process`}`,
      );
    }
    this.name = '';
    this.wallMs = wallMs;
    this.host = host;
    this.own = own;
  }
}

export interface HostCheck {
  loadAverage1mStart: number;
  loadAverage1mEnd: number;
  sections: SectionLoad[];
  /** Compute of `cores` threads at once against one thread alone: `cores` on an idle host. */
  parallelSpeedup: number;
}

/** How much parallel compute the host gives right now: one thread, then one per core, twice. */
export async function hostParallelism(cores: number, ms: number): Promise<number> {
  let one = 0;
  let all = 0;
  for (let round = 0; round < 2; round++) {
    one += sum(await computeRounds(1, ms));
    all += sum(await computeRounds(cores, ms));
  }
  return all / one;
}

/** Work outside this process above this many cores makes a section's figures suspect. */
const BUSY_HOST_CORES = 0.3;

export function hostCheckMarkdown(h: HostCheck, cores: number): string {
  const quiet = h.parallelSpeedup >= 0.85 * cores;
  const busy = h.sections.filter((x) => x.otherCores !== null && x.otherCores > BUSY_HOST_CORES);
  const loads = h.sections
    .map(
      (x) =>
        `${x.section} ${x.wallSeconds.toFixed(0)} s${x.otherCores === null ? '' : ` (${x.otherCores.toFixed(2)})`}`,
    )
    .join(', ');
  return [
    `- host check: 1-minute load average ${h.loadAverage1mStart.toFixed(2)} at the start, ${h.loadAverage1mEnd.toFixed(2)} at the end; ${cores} threads of plain JS compute delivered ${h.parallelSpeedup.toFixed(2)}x one thread at the start (${cores}.00 on an idle ${cores}-core host)${
      quiet ? '' : ': the host was busy with other work'
    }`,
    `- sections, wall time (cores kept busy outside this process meanwhile — other processes, kernel threads, interrupts — from /proc/stat): ${loads}${
      busy.length === 0
        ? ''
        : `. Work outside this process took more than ${BUSY_HOST_CORES} cores during ${busy.map((x) => x.section).join(', ')}: those figures may be depressed by it`
    }`,
  ].join('\n');
}
