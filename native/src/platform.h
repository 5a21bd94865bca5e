/* What this platform offers: advice that only Linux has is compiled in only where its header
 * defines it, and reported as unavailable elsewhere (never emulated). */
#ifndef VRH_PLATFORM_H
#define VRH_PLATFORM_H

#define _GNU_SOURCE 1
#include <sys/mman.h>

#ifdef MADV_FREE
#define VRH_HAVE_MADV_FREE 1
#else
#define VRH_HAVE_MADV_FREE 0
#endif

#ifdef MADV_POPULATE_READ
#define VRH_HAVE_POPULATE 1
#else
#define VRH_HAVE_POPULATE 0
#endif

#if defined(MADV_WIPEONFORK) && defined(MADV_KEEPONFORK)
#define VRH_HAVE_WIPEONFORK 1
#else
#define VRH_HAVE_WIPEONFORK 0
#endif

#ifdef __linux__
#define VRH_LINUX 1
#else
#define VRH_LINUX 0
#endif

#define VRH_PAGE_SIZE 4096u

#endif
