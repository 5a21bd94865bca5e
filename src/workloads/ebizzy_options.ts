// ebizzy's options: what one ebizzy process is told to do (src/workloads/ebizzy.ts runs it).

/** LTP ebizzy 0.3's options (same defaults), with the fixes documented in docs/ebizzy.md. */
export interface EbizzyOptions {
  /** -n: chunks (10). */
  chunks: number;
  /** -s: chunk size in bytes (512 KiB). */
  chunkSize: number;
  /** -S: seconds to run (10). */
  seconds: number;
  /** -t: threads per process (2 x CPUs). */
  threads: number;
  /** -m: mmap/munmap every copy instead of malloc/free. */
  alwaysMmap: boolean;
  /** -M: never mmap (glibc M_MMAP_MAX 0); the allocator maps nothing below a chunk anyway, so it only excludes -m. */
  neverMmap: boolean;
  /** -R: random copy size (1 byte to chunkSize). */
  randomSize: boolean;
  /** -p: mprotect the even chunks read-only. */
  mprotectEven: boolean;
  /** -P: one-page holes (touch every other page). */
  holes: boolean;
  /** -T: touch one word per page only instead of copying. */
  touchOnly: boolean;
  /** -l: byte-by-byte copy loop instead of memcpy. */
  byteLoop: boolean;
  /** -z: linear search instead of binary search. */
  linearSearch: boolean;
}
