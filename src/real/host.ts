// The host of a real-kernel measurement: the model's HostInfo plus what the harness saw (uname,
// CPUs online, the advice it was built with).

import { hostInfo } from '../workers/host.js';
import type { RealHostInfo } from './types.js';
import { bool, count, object, string } from './validate.js';

export function realHostInfo(platformJson: unknown): RealHostInfo {
  const p = object(platformJson, 'platform');
  const adviceJson = object(p.advice, 'platform.advice');
  const advice: Record<string, boolean> = {};
  for (const key of Object.keys(adviceJson)) advice[key] = bool(adviceJson, key, 'platform.advice');
  return {
    ...hostInfo(),
    kernel: string(p, 'kernel', 'platform'),
    sysname: string(p, 'sysname', 'platform'),
    cpusOnline: count(p, 'cpusOnline', 'platform'),
    advice,
  };
}
