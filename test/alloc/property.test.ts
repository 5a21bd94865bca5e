// Goal: under random malloc/free sequences (with purges, tcache flushes and reclaim mixed in), for
// every policy, live blocks never overlap, each keeps exactly the bytes written into it, the
// arena's structures stay consistent, and its syscall counts match the kernel's. Fixed seed,
// printed on failure.

import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Arena, sizeClassBytes } from '../../src/alloc/index.js';
import type { PurgePolicy } from '../../src/experiment/types.js';
import { type Machine, type Thread, vmstatDelta } from '../../src/index.js';
import { shrinkAll } from '../../src/mm/vmscan.js';
import { allocMachine, KIB, MIB, PAGE, POLICIES, rss } from './helpers.js';

const SEED = 20130611;
const RUNS_PER_POLICY = 20;
/** Live bytes are kept below this, so that a 32 MiB machine never runs out. */
const LIVE_BYTES_MAX = 6 * MIB;

type Command =
  | { op: 'malloc'; size: number }
  | { op: 'free'; pick: number }
  | { op: 'purge' }
  | { op: 'flush' }
  | { op: 'reclaim'; pages: number };

const sizeArb = fc.oneof(
  { weight: 12, arbitrary: fc.integer({ min: 0, max: 3584 }) },
  { weight: 5, arbitrary: fc.integer({ min: 3585, max: 96 * KIB }) },
  { weight: 2, arbitrary: fc.integer({ min: 96 * KIB, max: 1 * MIB }) },
  { weight: 1, arbitrary: fc.integer({ min: 4072 * KIB + 1, max: 5 * MIB }) },
);

const commandArb: fc.Arbitrary<Command> = fc.oneof(
  { weight: 10, arbitrary: fc.record({ op: fc.constant('malloc' as const), size: sizeArb }) },
  { weight: 8, arbitrary: fc.record({ op: fc.constant('free' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('purge' as const) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('flush' as const) }) },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant('reclaim' as const), pages: fc.integer({ min: 1, max: 512 }) }),
  },
);

const scenarioArb = fc.record({
  lgDirtyMult: fc.constantFrom(-1, 0, 3),
  commands: fc.array(commandArb, { minLength: 1, maxLength: 150, size: 'max' }),
});

interface LiveBlock {
  addr: number;
  bytes: number;
  tag: number;
}

/** Offsets a block's tag is written at: every byte of a small block, a word per page of others. */
function tagOffsets(bytes: number): number[] {
  if (bytes <= 3584) return [];
  const offsets: number[] = [];
  for (let offset = 0; offset < bytes; offset += PAGE) offsets.push(offset);
  offsets.push(bytes - 4);
  return offsets;
}

function tagWord(tag: number, offset: number): number {
  return (Math.imul(tag, 2654435761) ^ offset) >>> 0;
}

function writeTag(t: Thread, block: LiveBlock): void {
  if (block.bytes <= 3584) {
    t.fill(block.addr, block.bytes, block.tag & 0xff);
    return;
  }
  t.inUser(() => {
    for (const offset of tagOffsets(block.bytes)) t.store32(block.addr + offset, tagWord(block.tag, offset));
  });
}

function checkTag(t: Thread, block: LiveBlock): void {
  const where = `block ${block.tag} at 0x${block.addr.toString(16)} (${block.bytes} B)`;
  if (block.bytes <= 3584) {
    const bytes = t.read(block.addr, block.bytes);
    const bad = bytes.findIndex((b) => b !== (block.tag & 0xff));
    if (bad >= 0) throw new Error(`${where}: byte ${bad} is ${bytes[bad]}`);
    return;
  }
  t.inUser(() => {
    for (const offset of tagOffsets(block.bytes)) {
      const word = t.load32(block.addr + offset) >>> 0;
      if (word !== tagWord(block.tag, offset)) throw new Error(`${where}: word at +${offset} is ${word}`);
    }
  });
}

/** Live blocks sorted by address; an overlap with a new block throws. */
function insertChecked(live: LiveBlock[], block: LiveBlock): void {
  let lo = 0;
  let hi = live.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (live[mid].addr < block.addr) lo = mid + 1;
    else hi = mid;
  }
  const before = live[lo - 1];
  const after = live[lo];
  if (before !== undefined && before.addr + before.bytes > block.addr) {
    throw new Error(
      `new block 0x${block.addr.toString(16)} overlaps live block 0x${before.addr.toString(16)}`,
    );
  }
  if (after !== undefined && block.addr + block.bytes > after.addr) {
    throw new Error(
      `new block 0x${block.addr.toString(16)} overlaps live block 0x${after.addr.toString(16)}`,
    );
  }
  live.splice(lo, 0, block);
}

function runScenario(machine: Machine, policy: PurgePolicy, lgDirtyMult: number, commands: Command[]): void {
  const proc = machine.createProcess();
  const t = proc.mainThread();
  const reclaimCpu = machine.cpu(1);
  const before = machine.vmstat();
  const arena = new Arena(t, { policy, lgDirtyMult });
  try {
    const live: LiveBlock[] = [];
    let liveBytes = 0;
    let tags = 0;
    for (const command of commands) {
      switch (command.op) {
        case 'malloc': {
          if (liveBytes + sizeClassBytes(command.size) > LIVE_BYTES_MAX) break;
          const addr = arena.malloc(command.size);
          const bytes = arena.usableSize(addr);
          expect(bytes).toBe(sizeClassBytes(command.size));
          const block = { addr, bytes, tag: ++tags };
          insertChecked(live, block);
          writeTag(t, block);
          liveBytes += bytes;
          break;
        }
        case 'free': {
          if (live.length === 0) break;
          const [block] = live.splice(command.pick % live.length, 1);
          checkTag(t, block);
          arena.free(block.addr);
          liveBytes -= block.bytes;
          break;
        }
        case 'purge':
          arena.purge();
          break;
        case 'flush':
          arena.flushTcache();
          break;
        case 'reclaim':
          // Reclaim may discard volatile and lazily freed pages, never a live block's.
          shrinkAll(reclaimCpu, command.pages, false);
          for (const block of live) checkTag(t, block);
          break;
      }
      arena.validate();
    }
    for (const block of live) checkTag(t, block);
    const stats = arena.stats();
    const delta = vmstatDelta(before, machine.vmstat());
    expect(delta.syscall_mmap).toBe(stats.chunkMmapCalls + stats.hugeMmapCalls);
    expect(delta.vrange_volatile).toBe(policy === 'vrange' ? stats.purgeCalls : 0);
    expect(delta.vrange_novolatile).toBe(policy === 'vrange' ? stats.unmarkCalls : 0);
    expect(delta.mvolatile).toBe(policy === 'vma' ? stats.purgeCalls : 0);
    expect(delta.mnovolatile).toBe(policy === 'vma' ? stats.unmarkCalls : 0);
    expect(delta.syscall_madvise).toBe(
      policy === 'dontneed' || policy === 'madv_free' ? stats.purgeCalls : 0,
    );
    expect(delta.vrange_purged_reported).toBe(policy === 'vrange' ? stats.unmarkPurgedCalls : 0);
  } finally {
    arena.destroy();
    expect(rss(machine, proc)).toBe(0);
    proc.exit();
    machine.detach();
  }
}

describe('random malloc/free sequences', () => {
  let machine: Machine;
  beforeAll(() => {
    machine = allocMachine();
  });
  afterAll(() => {
    machine.validate();
  });

  it.each(POLICIES)('policy %s: blocks never overlap and keep their bytes', (policy) => {
    try {
      fc.assert(
        fc.property(scenarioArb, ({ lgDirtyMult, commands }) => {
          runScenario(machine, policy, lgDirtyMult, commands);
          machine.validate();
        }),
        { seed: SEED, numRuns: RUNS_PER_POLICY },
      );
    } catch (error) {
      throw new Error(`policy ${policy} failed with seed ${SEED}: ${(error as Error).message}`);
    }
  });
});
