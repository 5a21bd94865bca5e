// The host a run measured on, and how many of its cores a run keeps busy: runs with more busy
// simulated CPUs than host cores measure contention for cores, not scaling.

import os from 'node:os';

/** The host a result was measured on. */
export interface HostInfo {
  cores: number;
  cpuModel: string;
  node: string;
  platform: string;
}

export function hostInfo(): HostInfo {
  return {
    cores: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    node: process.version,
    platform: `${os.platform()} ${os.arch()}`,
  };
}

/**
 * The simulated CPUs a run keeps busy: the workload's CPUs, and under pressure the pressure process
 * and kswapd (which then reclaims almost all the time). An idle kswapd is not counted.
 */
export function busyCpus(cpus: number, pressureMiB: number): number {
  return cpus + (pressureMiB > 0 ? 2 : 0);
}
