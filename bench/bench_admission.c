/* An admission server for load tests: the real webhook server (TLS, HTTP
 * keep-alive, offloaded handlers) with the real quota and pod-mutation
 * handlers over a cache holding one project with N running pods. It prints
 * "port N" and serves until killed; bench/admission.sh drives it with wrk.
 *
 *   bench_admission [pods-in-project]      (default 200) */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "http/server.h"
#include "runtime/certs.h"
#include "util/json.h"
#include "util/log.h"
#include "webhooks/pods/mutate.h"
#include "webhooks/quota/quota.h"
#include "webhooks/server.h"

static cache_store *store(void) {
  cache_store *s = cache_store_new();
  cache_store_index_owner(s);
  cache_store_index_namespace(s);
  cache_store_index_label(s, "cubit.dev/project");
  return s;
}

static void put(cache_store *s, const char *text) {
  json_t *o = json_loads(text, 0, NULL);
  if (o == NULL) abort();
  json_decref(cache_store_upsert(s, o));
  json_decref(o);
}

static int write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  if (f == NULL) return -1;
  fputs(text, f);
  return fclose(f);
}

int main(int argc, char **argv) {
  int npods = argc > 1 ? atoi(argv[1]) : 200;
  log_init(0, stderr);
  signal(SIGPIPE, SIG_IGN);
  webhook_env env = {0};
  env.projects = store();
  env.namespaces = store();
  env.pods = store();
  for (int i = 0; i < WL_COUNT; i++) env.workloads[i] = store();
  env.reservations = quota_reservations_new();
  env.reservation_ttl_ms = 1; /* every request is judged afresh */
  env.gang.scheduler = GANG_VOLCANO;
  put(env.projects, "{\"metadata\":{\"name\":\"bench\"},\"spec\":{\"namespaces\":[\"bench\"],"
                    "\"quota\":{\"cpu\":\"100000\",\"gpu\":\"100000\",\"pods\":1000000}}}");
  put(env.namespaces, "{\"metadata\":{\"name\":\"bench\",\"labels\":{\"cubit.dev/project\":\"bench\"}}}");
  for (int i = 0; i < npods; i++) {
    char pod[512];
    snprintf(pod, sizeof(pod),
             "{\"metadata\":{\"name\":\"p%d\",\"namespace\":\"bench\"},\"spec\":{\"containers\":[{\"name\":\"m\","
             "\"resources\":{\"limits\":{\"cpu\":\"1\",\"nvidia.com/gpu\":\"1\"}}}]},\"status\":{\"phase\":\"Running\"}}",
             i);
    put(env.pods, pod);
  }
  /* A throwaway CA and serving certificate for 127.0.0.1. */
  char *ca_key, *ca_cert, *key, *cert;
  if (rt__certs_make_ca(86400, &ca_key, &ca_cert) ||
      rt__certs_make_serving(ca_key, ca_cert, "127.0.0.1", 86400, &key, &cert))
    return 1;
  char dir[] = "/tmp/cubit-bench-XXXXXX";
  if (mkdtemp(dir) == NULL) return 1;
  char cert_path[64], key_path[64];
  snprintf(cert_path, sizeof(cert_path), "%s/tls.crt", dir);
  snprintf(key_path, sizeof(key_path), "%s/tls.key", dir);
  if (write_file(cert_path, cert) || write_file(key_path, key)) return 1;

  uv_loop_t loop;
  uv_loop_init(&loop);
  http_server_opts o;
  http_server_opts_init(&o);
  o.name = "bench";
  o.bind = "127.0.0.1:0";
  o.cert_file = cert_path;
  o.key_file = key_path;
  http_server *srv;
  webhook_route quota_route, mutate_route;
  if (http_server_new(&loop, &o, &srv) ||
      webhook_serve(srv, NULL, &quota_route, "/validate-quota", "validate-quota", quota_validate, &env) ||
      webhook_serve(srv, NULL, &mutate_route, "/mutate-pods", "mutate-pods", pods_mutate_handler, &env) ||
      http_server_start(srv))
    return 1;
  printf("port %d\n", http_server_port(srv));
  fflush(stdout);
  uv_run(&loop, UV_RUN_DEFAULT);
  return 0;
}
