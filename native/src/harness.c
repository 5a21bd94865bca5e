/* vrange-harness: the real-kernel side of vrange-lab. One binary, one subcommand per job, one JSON
 * object on stdout; bad input ends with a one-line reason on stderr and exit status 2.
 *   ebizzy    the model's ebizzy workload on the host kernel (ebizzy.c)
 *   micro     per-operation costs of the kernel paths the policies use (micro.c)
 *   selftest  checks that the advice does what the policies rely on (selftest.c) */
#include "platform.h"

#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "advice.h"
#include "ebizzy.h"
#include "json.h"
#include "options.h"

int micro_main(int argc, char **argv);
int selftest_main(int argc, char **argv);

/* "platform": the kernel and what it offers (advice compiled in, CPUs online). */
void write_platform(struct json *j) {
  struct utsname u;
  int have_uname = uname(&u) == 0;
  json_begin_object(j, "platform");
  json_string(j, "sysname", have_uname ? u.sysname : "unknown");
  json_string(j, "kernel", have_uname ? u.release : "unknown");
  json_string(j, "machine", have_uname ? u.machine : "unknown");
  json_int(j, "cpusOnline", sysconf(_SC_NPROCESSORS_ONLN));
  json_begin_object(j, "advice");
  json_bool(j, "MADV_DONTNEED", 1);
  json_bool(j, "MADV_FREE", VRH_HAVE_MADV_FREE);
  json_bool(j, "MADV_WIPEONFORK", VRH_HAVE_WIPEONFORK);
  json_end_object(j);
  json_end_object(j);
}

static int version_main(void) {
  struct json j;
  json_init(&j, stdout);
  json_begin_object(&j, NULL);
  json_string(&j, "format", "vrange-harness/1");
  json_string(&j, "command", "version");
  write_platform(&j);
  json_end_object(&j);
  json_finish(&j);
  return 0;
}

static void usage(void) {
  puts("usage: vrange-harness ebizzy|micro|selftest|version [options] (each takes --help)\n"
       "The native real-kernel harness of vrange-lab; prints one JSON object on stdout.");
}

int main(int argc, char **argv) {
  if (argc < 2) usage_error("expected a command: ebizzy, micro, selftest or version");
  const char *command = argv[1];
  if (strcmp(command, "--help") == 0 || strcmp(command, "-h") == 0) {
    usage();
    return 0;
  }
  if (strcmp(command, "ebizzy") == 0) return ebizzy_main(argc - 1, argv + 1);
  if (strcmp(command, "micro") == 0) return micro_main(argc - 1, argv + 1);
  if (strcmp(command, "selftest") == 0) return selftest_main(argc - 1, argv + 1);
  if (strcmp(command, "version") == 0) return version_main();
  usage_error("unknown command \"%s\" (expected ebizzy, micro, selftest or version)", command);
}
