/* cubit-manager: every Cubit controller and admission webhook in one process. */
#include <stdio.h>
#include <stdlib.h>

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

  /* The cluster's GPU profile and gang scheduler, from --config. */
  json_t *settings = rt_manager_config(m);
  gpu_profile *gpu = NULL;
  gang_config gang;
  int code = 1;
  webhooks *hooks = NULL;
  json_t *gpu_section = json_object_get(settings, "gpu");
  if (gpu_section && gpu_profile_parse(gpu_section, &gpu, err, sizeof(err))) {
    log_error("manager", "bad GPU profile in --config", "error=\"%s\"", err);
    goto out;
  }
  if (gang_config_parse(json_object_get(settings, "gang"), &gang, err, sizeof(err))) {
    log_error("manager", "bad gang settings in --config", "error=\"%s\"", err);
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
      webhooks_register(m, gpu, &gang, &hooks)) {
    log_error("manager", "cannot register controllers", "%s", "");
    goto out;
  }
  code = rt_manager_run(m);
out:
  rt_manager_free(m);
  webhooks_free(hooks);
  gpu_profile_free(gpu);
  return code;
}
