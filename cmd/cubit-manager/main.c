/* cubit-manager: every Cubit controller and admission webhook in one process. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controllers/inferenceservice/inferenceservice.h"
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

int main(int argc, char **argv) {
  rt_manager_options opts;
  char err[512] = "";
  history_flags hist = {NULL, "0.0.0.0:8444", NULL, NULL, 0};
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
           "  --history-only                      run the recorder and API only: no controllers, no webhooks\n");
    return 0;
  }
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

  /* The cluster's GPU profile and gang scheduler, from --config. */
  json_t *settings = rt_manager_config(m);
  gpu_profile *gpu = NULL;
  gang_config gang;
  int code = 1;
  webhooks *hooks = NULL;
  hist_store *store = NULL;
  hist_api_server *api = NULL;
  hist_pruner *pruner = NULL;
  json_t *gpu_section = json_object_get(settings, "gpu");
  if (gpu_section && gpu_profile_parse(gpu_section, &gpu, err, sizeof(err))) {
    log_error("manager", "bad GPU profile in --config", "error=\"%s\"", err);
    goto out;
  }
  if (gang_config_parse(json_object_get(settings, "gang"), &gang, err, sizeof(err))) {
    log_error("manager", "bad gang settings in --config", "error=\"%s\"", err);
    goto out;
  }
  if (hist.db && hist.db[0]) {
    hist_settings hs;
    if (hist_settings_parse(json_object_get(settings, "history"), &hs, err, sizeof(err))) {
      log_error("manager", "bad history settings in --config", "error=\"%s\"", err);
      goto out;
    }
    if (hist_store_open(hist.db, &store, err, sizeof(err))) {
      log_error("manager", "cannot open the history database", "error=\"%s\"", err);
      goto out;
    }
    if (hist_recorder_register(m, store, gpu, &hs)) {
      log_error("manager", "cannot register the history recorder", "%s", "");
      goto out;
    }
    pruner = hist_pruner_start(store, &hs, 60);
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
  notebook_config notebooks;
  if (notebook_config_parse(json_object_get(settings, "notebook"), gpu, &notebooks, err, sizeof(err))) {
    log_error("manager", "bad notebook settings in --config", "error=\"%s\"", err);
    goto out;
  }
  rc = notebook_controller_register(m, &notebooks);
  notebook_config_free(&notebooks);
  if (rc || project_controller_register(m, gpu) || trainingjob_controller_register(m, &gang, gpu) ||
      inference_controller_register(m, json_object_get(settings, "inference"), gpu) ||
      pipeline_controller_register(m) ||
      pipelinerun_controller_register(m, json_object_get(settings, "pipeline")) ||
      jobtemplate_controllers_register(m) ||
      webhooks_register(m, gpu, &gang, history, &hooks)) {
    log_error("manager", "cannot register controllers", "%s", "");
    goto out;
  }
  code = rt_manager_run(m);
out:
  hist_api_server_stop(api);
  hist_pruner_stop(pruner);
  rt_manager_free(m);
  hist_store_close(store);
  webhooks_free(hooks);
  gpu_profile_free(gpu);
  return code;
}
