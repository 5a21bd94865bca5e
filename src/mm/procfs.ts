// procfs-style text of the machine's state. Read without taking kernel locks (the reader may be
// no CPU at all), so a file read while CPUs run is a best-effort snapshot, exact when quiescent.

import { LRU, MM, PAGE_SIZE, ZONE } from '../layout/layout.js';
import { lockdepReports, renderLockStat } from '../locks/index.js';
import type { Kernel } from './kernel.js';
import { pcpCount } from './page_alloc.js';
import { livePids, mmOfPid } from './process.js';
import { VM_PURGED, VM_READ, VM_VOLATILE, VM_WRITE, vmaCount, vmaEnd, vmaFlags, vmaStart } from './vma.js';
import { renderVmstat, VMSTAT_ITEMS, type Vmstat } from './vmstat.js';
import { renderVrange } from './vrange.js';

export function readVmstat(k: Kernel): Vmstat {
  const stat = {} as Vmstat;
  for (let item = 0; item < VMSTAT_ITEMS.length; item++) {
    let sum = 0;
    for (let cpu = 0; cpu < k.geometry.cpuSlots; cpu++) sum += k.f64[k.vmstatIndex(cpu, item)];
    stat[VMSTAT_ITEMS[item]] = sum;
  }
  let pcp = 0;
  for (let cpu = 0; cpu < k.geometry.cpuSlots; cpu++) pcp += pcpCount(k, cpu);
  let anon = 0;
  for (let mm = 0; mm < k.config.maxProcesses; mm++) anon += rssPages(k, mm);
  stat.nr_free_pages = Atomics.load(k.i32, k.zoneWord(ZONE.nrFree));
  stat.nr_pcp_pages = pcp;
  stat.nr_anon_pages = anon;
  stat.nr_total_pages = k.geometry.frames;
  // The list heads' counts, read without lru_lock (a snapshot, as Linux's per-CPU-summed gauges).
  stat.nr_inactive_anon = Atomics.load(k.i32, k.anonLru + LRU.count);
  stat.nr_inactive_file = Atomics.load(k.i32, k.lazyfreeLru + LRU.count);
  return stat;
}

export function rssPages(k: Kernel, mm: number): number {
  let rss = 0;
  for (let cpu = 0; cpu < k.geometry.cpuSlots; cpu++) rss += k.i32[k.rssWord(cpu, mm)];
  return rss;
}

function hex(n: number): string {
  return n.toString(16).padStart(8, '0');
}

function renderMaps(k: Kernel, mm: number): string {
  let out = '';
  for (let index = 0; index < vmaCount(k, mm); index++) {
    const flags = vmaFlags(k, mm, index);
    const perms = `${flags & VM_READ ? 'r' : '-'}${flags & VM_WRITE ? 'w' : '-'}-p`;
    const volatile = flags & VM_VOLATILE ? (flags & VM_PURGED ? ' [volatile purged]' : ' [volatile]') : '';
    out += `${hex(vmaStart(k, mm, index) * PAGE_SIZE)}-${hex(vmaEnd(k, mm, index) * PAGE_SIZE)} ${perms} 00000000 00:00 0${volatile}\n`;
  }
  return out;
}

function renderStatus(k: Kernel, mm: number, pid: number): string {
  let vmSize = 0;
  for (let index = 0; index < vmaCount(k, mm); index++)
    vmSize += vmaEnd(k, mm, index) - vmaStart(k, mm, index);
  const kb = PAGE_SIZE / 1024;
  const rssKb = String(rssPages(k, mm) * kb).padStart(8);
  return [
    `Name:\tsim-${pid}`,
    `Pid:\t${pid}`,
    `VmSize:\t${String(vmSize * kb).padStart(8)} kB`,
    `VmRSS:\t${rssKb} kB`,
    `RssAnon:\t${rssKb} kB`,
    `VmaCount:\t${vmaCount(k, mm)}`,
    `VolatileRanges:\t${k.i32[k.mmWord(mm, MM.vrangeCount)]}`,
    '',
  ].join('\n');
}

function renderMeminfo(k: Kernel): string {
  const stat = readVmstat(k);
  const kb = PAGE_SIZE / 1024;
  const line = (name: string, pages: number) =>
    `${`${name}:`.padEnd(16)}${String(pages * kb).padStart(8)} kB`;
  return `${[
    line('MemTotal', stat.nr_total_pages),
    line('MemFree', stat.nr_free_pages + stat.nr_pcp_pages),
    line('AnonPages', stat.nr_anon_pages),
    line('LazyFree', stat.nr_inactive_file),
  ].join('\n')}\n`;
}

/** Text of a procfs path; throws for paths that do not exist. */
export function procfsRead(k: Kernel, path: string): string {
  switch (path) {
    case '/proc/vmstat':
      return renderVmstat(readVmstat(k));
    case '/proc/meminfo':
      return renderMeminfo(k);
    case '/proc/lock_stat':
      return renderLockStat(k.dom);
    case '/proc/lockdep':
      return lockdepReports(k.dom).join('\n\n');
    case '/proc/pids':
      return livePids(k).join('\n');
  }
  const match = /^\/proc\/(\d+)\/(maps|status|vrange)$/.exec(path);
  if (match !== null) {
    const pid = Number(match[1]);
    const mm = mmOfPid(k, pid);
    if (mm >= 0) {
      if (match[2] === 'maps') return renderMaps(k, mm);
      if (match[2] === 'status') return renderStatus(k, mm, pid);
      return renderVrange(k, mm);
    }
  }
  throw new Error(`procfs: ${path}: no such file`);
}
