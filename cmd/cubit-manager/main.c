/* cubit-manager: every Cubit controller and admission webhook in one process. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controllers/experiment/experiment.h"
#include "controllers/inferenceservice/inferenceservice.h"
#include "controllers/cluster/cluster.h"
#include "controllers/notebook/notebook.h"
#include "controllers/pipeline/pipeline.h"
#include "controllers/project/project.h"
#include "controllers/trainingjob/trainingjob.h"
#include "runtime/manager.h"
#include "util/json.h"
#include "util/log.h"
#include "api/gang/gang.h"
#include "api/gpu/gpu.h"
#include "webhooks/webhooks.h"
#include "history/api.h"
#include "history/recorder.h"
#include "history/store.h"
#include "member_logs.h"
#include "settings.h"

/* The history's flags, taken out of argv before the manager's own parser
 * sees the rest (docs/history.md). */
typedef struct {
  const char *db;           /* --history-db PATH: record runs (off when unset) */
  const char *bind;         /* --history-bind-address (default 0.0.0.0:8444, beside the metrics port 8443; "0" disables the API) */
  const char *cert_dir;     /* --history-cert-dir (default: --webhook-cert-dir's) */
  const char *self_hosts;   /* --history-self-signed-hosts: issue the API's certificate for
                             * these names (else read cert_dir's files) */
  int only;                 /* --history-only: run the recorder and API without the controllers
                             * and webhooks (the chart's history Deployment) */
} history_flags;

/* Removes the history flags from argv (in place); returns the new argc or
 * -1 with err set. */
static int take_history_flags(int argc, char **argv, history_flags *h, char *err, size_t errlen) {
  static const char *const names[] = {"--history-db", "--history-bind-address", "--history-cert-dir",
                                      "--history-self-signed-hosts"};
  const char **slots[] = {&h->db, &h->bind, &h->cert_dir, &h->self_hosts};
  int out = 1;
  for (int i = 1; i < argc; i++) {
    int taken = 0;
    if (strcmp(argv[i], "--history-only") == 0) {
      h->only = 1;
      taken = 1;
    }
    for (size_t k = 0; k < 4 && !taken; k++) {
      size_t len = strlen(names[k]);
      if (strncmp(argv[i], names[k], len) != 0) continue;
      if (argv[i][len] == '=') {
        *slots[k] = argv[i] + len + 1;
        taken = 1;
      } else if (argv[i][len] == '\0') {
        if (i + 1 >= argc) {
          snprintf(err, errlen, "%s: needs a value", names[k]);
          return -1;
        }
        *slots[k] = argv[++i];
        taken = 1;
      }
    }
    if (!taken) argv[out++] = argv[i];
  }
  argv[out] = NULL;
  if (h->only && (h->db == NULL || h->db[0] == '\0')) {
    snprintf(err, errlen, "--history-only: needs --history-db");
    return -1;
  }
  return out;
}

/* Removes --check-config from argv (in place); returns the new argc and
 * sets *check when it was there. */
static int take_check_flag(int argc, char **argv, int *check) {
  int out = 1;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--check-config") == 0) *check = 1;
    else argv[out++] = argv[i];
  }
  argv[out] = NULL;
  return out;
}

/* --check-config: the flags are parsed already; reads --config and parses
 * every section as a starting manager would, without a cluster. Prints the
 * settings in effect (JSON) and returns 0, or the reason and 2. */
static int check_config(const rt_manager_options *opts) {
  char err[512] = "";
  if (opts->config_file == NULL) {
    fprintf(stderr, "cubit-manager: --check-config: needs --config FILE\n");
    return 2;
  }
  json_t *config = NULL, *effective = NULL;
  /* In the cluster the manager is the ServiceAccount cubit-manager of the
   * Lease's namespace (the chart's and config/default's). */
  char user[320];
  snprintf(user, sizeof(user), "system:serviceaccount:%s:cubit-manager", opts->leader_election_namespace);
  int rc = rt_manager_load_config(opts->config_file, &config, err, sizeof(err));
  if (rc == 0) rc = mgr_settings_check(config, user, &effective, err, sizeof(err));
  json_decref(config);
  if (rc) {
    fprintf(stderr, "cubit-manager: --config %s: %s\n", opts->config_file, err);
    return 2;
  }
  char *text = json_dumps(effective, JSON_SORT_KEYS | JSON_COMPACT);
  printf("%s\n", text ? text : "{}");
  free(text);
  json_decref(effective);
  return 0;
}

int main(int argc, char **argv) {
  rt_manager_options opts;
  char err[512] = "";
  history_flags hist = {NULL, "0.0.0.0:8444", NULL, NULL, 0};
  int check = 0;
  argc = take_check_flag(argc, argv, &check);
  argc = take_history_flags(argc, argv, &hist, err, sizeof(err));
  if (argc < 0) {
    fprintf(stderr, "cubit-manager: %s\n", err);
    return 2;
  }
  int rc = rt_manager_parse_flags(argc, argv, &opts, err, sizeof(err));
  if (rc == 1) {
    printf("\nRun history (docs/history.md):\n"
           "  --history-db PATH                   record runs in this SQLite database (off when unset)\n"
           "  --history-bind-address ADDR         the history API's HTTPS address (default 0.0.0.0:8444; 0 = none)\n"
           "  --history-cert-dir DIR              its tls.crt and tls.key (default: --webhook-cert-dir)\n"
           "  --history-self-signed-hosts NAMES   issue its certificate for these names (Secret cubit-history-certs)\n"
           "  --history-only                      run the recorder and API only: no controllers, no webhooks\n"
           "\nChecking a configuration:\n"
           "  --check-config                      parse the flags and every section of --config as a start\n"
           "                                      would, print the settings in effect and exit (0, or 2 with\n"
           "                                      the reason); no cluster is contacted\n");
    return 0;
  }
  if (rc) {
    fprintf(stderr, "cubit-manager: %s\n", err);
    return 2;
  }
  if (check) return check_config(&opts);
  log_init(opts.verbosity, stderr);
  /* libuv's thread pool runs informer lists and admission handlers; its
   * default of 4 threads is small for a manager that serves webhooks while
   * relisting. Must be set before the loop's first use of the pool. */
  setenv("UV_THREADPOOL_SIZE", "8", 0);
  rt_manager *m;
  if (rt_manager_new(&opts, &m)) return 1;

  /* The GPU profile, the gang scheduler, the history's and the notebooks'
   * settings, from --config (settings.c). */
  json_t *settings = rt_manager_config(m);
  mgr_settings parsed;
  int code = 1;
  webhooks *hooks = NULL;
  hist_store *store = NULL;
  hist_api_server *api = NULL;
  hist_pruner *pruner = NULL;
  mgr_logs *logs = NULL;
  mgr_settings_warn_unknown(settings);
  if (mgr_settings_parse(settings, &parsed, err, sizeof(err))) {
    log_error("manager", "bad --config", "error=\"%s\"", err);
    goto out;
  }
  const gpu_profile *gpu = parsed.gpu;
  if (hist.db && hist.db[0]) {
    if (hist_store_open(hist.db, &store, err, sizeof(err))) {
      log_error("manager", "cannot open the history database", "error=\"%s\"", err);
      goto out;
    }
    if (hist_recorder_register(m, store, gpu, &parsed.history)) {
      log_error("manager", "cannot register the history recorder", "%s", "");
      goto out;
    }
    pruner = hist_pruner_start(store, &parsed.history, 60);
    const char *cert_dir = hist.cert_dir ? hist.cert_dir
                           : opts.webhook_cert_dir ? opts.webhook_cert_dir
                                                   : "/tmp/k8s-webhook-server/serving-certs";
    if (strcmp(hist.bind, "0") != 0 && hist_api_server_start(m, store, hist.bind, cert_dir, hist.self_hosts, opts.leader_election_namespace, &api)) {
      log_error("manager", "cannot serve the history API", "bind=%s", hist.bind);
      goto out;
    }
    if (hist.only) {
      code = rt_manager_run(m);
      goto out;
    }
  }
  /* History is on when this manager records it or its --config has a
   * "history" section (the recorder runs in its own Deployment). Off, the
   * finalizers a recorder left go. */
  int history = (hist.db && hist.db[0]) || json_object_get(settings, "history") != NULL;
  if (!history && hist_cleanup_register(m)) {
    log_error("manager", "cannot register the history cleanup", "%s", "");
    goto out;
  }
  rc = notebook_controller_register(m, &parsed.notebooks);
  if (rc || project_controller_register(m, gpu) || trainingjob_controller_register(m, &parsed.gang, gpu) ||
      inference_controller_register(m, json_object_get(settings, "inference"), gpu) ||
      pipeline_controller_register(m) ||
      pipelinerun_controller_register(m, json_object_get(settings, "pipeline"), gpu) ||
      jobtemplate_controllers_register(m) || experiment_controller_register(m) ||
      cluster_controller_register(m, opts.leader_election_namespace, gpu) ||
      webhooks_register(m, gpu, &parsed.gang, history, &hooks) ||
      mgr_logs_start(m, opts.leader_election_namespace, &logs)) {
    log_error("manager", "cannot register controllers", "%s", "");
    goto out;
  }
  code = rt_manager_run(m);
out:
  hist_api_server_stop(api);
  hist_pruner_stop(pruner);
  rt_manager_free(m);
  mgr_logs_free(logs);
  hist_store_close(store);
  webhooks_free(hooks);
  mgr_settings_free(&parsed);
  return code;
}
