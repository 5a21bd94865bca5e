// User-visible constants with Linux's values (include/uapi/asm-generic/errno-base.h, mman-common.h)
// and the vrange RFC's.

export const EPERM = 1;
export const ENOENT = 2;
export const EINTR = 4;
export const EAGAIN = 11;
export const ENOMEM = 12;
export const EFAULT = 14;
export const EBUSY = 16;
export const EINVAL = 22;
export const ENOSYS = 38;

export const PROT_NONE = 0;
export const PROT_READ = 1;
export const PROT_WRITE = 2;

export const MAP_FIXED = 0x10;

export const MADV_NORMAL = 0;
export const MADV_DONTNEED = 4;
export const MADV_FREE = 8;

export const VRANGE_VOLATILE = 0;
export const VRANGE_NOVOLATILE = 1;
export const VRANGE_FULL = 0;
export const VRANGE_PARTIAL = 1;

/** Lowest address a mapping may start at (Linux's default vm.mmap_min_addr). */
export const MMAP_MIN_ADDR = 0x10000;

export const ERRNO_NAMES: Readonly<Record<number, string>> = {
  [EPERM]: 'EPERM',
  [ENOENT]: 'ENOENT',
  [EINTR]: 'EINTR',
  [EAGAIN]: 'EAGAIN',
  [ENOMEM]: 'ENOMEM',
  [EFAULT]: 'EFAULT',
  [EBUSY]: 'EBUSY',
  [EINVAL]: 'EINVAL',
  [ENOSYS]: 'ENOSYS',
};

/** "-ENOMEM" for -12, the number itself for other values. */
export function errnoName(ret: number): string {
  return ret < 0 && ERRNO_NAMES[-ret] !== undefined ? `-${ERRNO_NAMES[-ret]}` : String(ret);
}
