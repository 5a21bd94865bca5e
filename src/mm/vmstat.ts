// vmstat: per-CPU event counters (Linux's vm_event_states) and /proc/vmstat.
//
// Each CPU adds to its own Float64 row without atomics; readers sum the rows. Gauges that Linux
// keeps as zone counters (nr_free_pages) are computed from the structures they describe.

export const VMSTAT_ITEMS = [
  'pgfault',
  'pgalloc',
  'pgfree',
  'pgzero',
  'pcp_refill',
  'pcp_drain',
  'nr_tlb_remote_flush',
  'nr_tlb_remote_flush_received',
  'nr_tlb_local_flush_all',
  'tlb_shootdown_wait_us',
  'madvise_dontneed',
  'pglazyfree',
  'pglazyfreed',
  'pgvrange_scan',
  'pgvrange_discard',
  'pgdiscard_direct',
  'pgdiscard_kswapd',
  /** Victims that changed (became non-volatile, shrank, were freed) between the LRU and vrange_lock. */
  'vrange_victim_changed',
  'vrange_volatile',
  'vrange_novolatile',
  'vrange_purged_reported',
  'mvolatile',
  'mnovolatile',
  'kswapd_wakeup',
  'pageoutrun',
  'allocstall',
  'sigbus',
  'sigsegv',
  'oom_kill',
  'syscall_mmap',
  'syscall_munmap',
  'syscall_mprotect',
  'syscall_madvise',
  /** fork: processes created by it (Linux counts them in /proc/stat's "processes"). */
  'fork',
  /** Write faults on a COW-shared page that copied it (do_wp_page's wp_page_copy). */
  'cow_fault',
  /** Write faults on a write-protected page mapped once, reused in place (Linux's pgreuse). */
  'pgreuse',
  /** Shared pages of a volatile range discarded from every mm mapping them. */
  'pgvrange_shared_discard',
  /** Shared pages of a volatile range kept: another mapping is not volatile, or its lock was busy. */
  'pgvrange_shared_skip',
  /** MADV_FREE on pages mapped by more than one mm: left alone, as Linux does. */
  'pglazyfree_shared_skip',
  /** Pages reclaim found in use and put back on the anon LRU (a re-dirtied lazily freed page). */
  'pgactivate',
] as const;

export type VmstatItem = (typeof VMSTAT_ITEMS)[number];

/** Index of each counter in a CPU's row. */
export const VM = Object.freeze(Object.fromEntries(VMSTAT_ITEMS.map((name, i) => [name, i]))) as {
  readonly [K in VmstatItem]: number;
};

/** Gauges computed from the structures they describe (nr_inactive_file: the lazyfree list). */
export const VMSTAT_GAUGES = [
  'nr_free_pages',
  'nr_pcp_pages',
  'nr_anon_pages',
  'nr_total_pages',
  'nr_inactive_anon',
  'nr_inactive_file',
] as const;

export type Vmstat = Record<VmstatItem | (typeof VMSTAT_GAUGES)[number], number>;

export function renderVmstat(stat: Vmstat): string {
  const lines = [...VMSTAT_GAUGES, ...VMSTAT_ITEMS].map((name) => `${name} ${Math.round(stat[name])}`);
  return `${lines.join('\n')}\n`;
}

/** Counter increases from `before` to `after` (gauges as their after values). */
export function vmstatDelta(before: Vmstat, after: Vmstat): Vmstat {
  const out = { ...after };
  for (const name of VMSTAT_ITEMS) out[name] = after[name] - before[name];
  return out;
}
