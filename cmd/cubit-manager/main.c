/* cubit-manager: every Cubit controller and admission webhook in one process. */
#include <stdio.h>
#include <stdlib.h>

#include "runtime/manager.h"
#include "util/log.h"

int main(int argc, char **argv) {
  rt_manager_options opts;
  char err[512] = "";
  int rc = rt_manager_parse_flags(argc, argv, &opts, err, sizeof(err));
  if (rc == 1) return 0;
  if (rc) {
    fprintf(stderr, "cubit-manager: %s\n", err);
    return 2;
  }
  log_init(opts.verbosity, stderr);
  /* libuv's thread pool runs informer lists and admission handlers; its
   * default of 4 threads is small for a manager that serves webhooks while
   * relisting. Must be set before the loop's first use of the pool. */
  setenv("UV_THREADPOOL_SIZE", "8", 0);
  rt_manager *m;
  if (rt_manager_new(&opts, &m)) return 1;
  int code = rt_manager_run(m);
  rt_manager_free(m);
  return code;
}
