/* libFuzzer target of the member logs endpoint's request parser
 * (pkg/runtime/member_logs.h): the input's first line is the path after
 * RT_LOGS_PREFIX, the rest the query. The parser answers 0 or CUBIT_EINVAL
 * with a message, never crashes or overruns; what it accepts is bounded and
 * the member's query built from it carries only the known parameters. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/member_logs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int name_ok(const char *s) {
  return s[0] != '\0' && strpbrk(s, "/?&=% \n") == NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  size_t plen = strlen(RT_LOGS_PREFIX);
  char *path = malloc(plen + size + 1);
  if (path == NULL) return 0;
  memcpy(path, RT_LOGS_PREFIX, plen);
  memcpy(path + plen, data, size);
  path[plen + size] = '\0';
  char *nl = strchr(path, '\n');
  const char *query = "";
  if (nl) {
    *nl = '\0';
    query = nl + 1;
  }
  char err[512] = "";
  rt_logs_request r;
  int rc = rt_logs_parse(path, query, &r, err, sizeof(err));
  if (rc != 0 && (rc != CUBIT_EINVAL || err[0] == '\0')) abort();
  if (rc == 0) {
    if (!name_ok(r.ns) || !name_ok(r.plural) || !name_ok(r.name)) abort();
    if (r.want_log && !name_ok(r.pod)) abort();
    if (r.limit_bytes < 1 || r.limit_bytes > RT_LOGS_MAX_BYTES || r.tail_lines < -1 || r.tail_lines > RT_LOGS_MAX_LINES)
      abort();
    char *q = rt_logs_member_query(&r);
    /* Every parameter is one of ours: nothing the caller wrote is passed on raw. */
    for (char *p = q; p && *p;) {
      static const char *const known[] = {"limitBytes=", "container=", "tailLines=", "sinceTime=", "timestamps="};
      int ok = 0;
      for (size_t k = 0; k < sizeof(known) / sizeof(known[0]) && !ok; k++) ok = strncmp(p, known[k], strlen(known[k])) == 0;
      if (!ok || strpbrk(p, "\n ") != NULL) abort();
      char *amp = strchr(p, '&');
      p = amp ? amp + 1 : NULL;
    }
    free(q);
  }
  free(path);
  return 0;
}
