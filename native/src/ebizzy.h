/* ebizzy on the host kernel: the model's workload (src/workloads/ebizzy.ts, docs/ebizzy.md) in
 * native threads of forked processes, with the arena of arena.h purging by the policy. */
#ifndef VRH_EBIZZY_H
#define VRH_EBIZZY_H

int ebizzy_main(int argc, char **argv);

#endif
