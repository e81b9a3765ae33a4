#include "settings.h"

#include <stdio.h>
#include <string.h>

#include "controllers/inferenceservice/inferenceservice.h"
#include "controllers/pipeline/pipeline.h"
#include "util/log.h"
#include "webhooks/env.h"

/* Every top-level section some part of the manager reads. */
static const char *const sections[] = {"gpu", "gang", "history", "notebook", "inference", "pipeline", "tenancy", NULL};

int mgr_settings_parse(const json_t *config, mgr_settings *out, char *err, size_t errlen) {
  memset(out, 0, sizeof(*out));
  char why[400] = "";
  const json_t *gpu = json_object_get(config, "gpu");
  if (gpu && gpu_profile_parse(gpu, &out->gpu, why, sizeof(why)))
    return cubit_errorf(err, errlen, CUBIT_EINVAL, "gpu: %s", why);
  /* The other parsers name their section themselves. */
  if (gang_config_parse(json_object_get(config, "gang"), &out->gang, err, errlen) ||
      hist_settings_parse(json_object_get(config, "history"), &out->history, err, errlen) ||
      notebook_config_parse(json_object_get(config, "notebook"), out->gpu, &out->notebooks, err, errlen))
    return CUBIT_EINVAL;
  return 0;
}

void mgr_settings_free(mgr_settings *s) {
  notebook_config_free(&s->notebooks);
  gpu_profile_free(s->gpu);
  s->gpu = NULL;
}

static int known_section(const char *key) {
  for (const char *const *s = sections; *s; s++)
    if (strcmp(*s, key) == 0) return 1;
  return 0;
}

void mgr_settings_warn_unknown(const json_t *config) {
  const char *key;
  json_t *v;
  json_object_foreach((json_t *)config, key, v) {
    if (!known_section(key)) log_warn("manager", "unknown section in --config, ignored", "section=\"%.64s\"", key);
  }
}

static json_t *effective_gpu(const gpu_profile *p) {
  static const char *const modes[] = {[GPU_HAMI_MEMORY_AUTO] = "auto", [GPU_HAMI_MEMORY_BYTES] = "bytes",
                                      [GPU_HAMI_MEMORY_PERCENTAGE] = "percentage"};
  json_t *models = json_object();
  for (size_t i = 0; i < gpu_profile_model_count(p); i++) {
    const char *name = gpu_profile_model_name(p, i);
    json_object_set_new(models, name,
                        json_pack("{s:I, s:s}", "memory", (json_int_t)gpu_profile_model_memory(p, name), "labelValue",
                                  gpu_profile_model_label_value(p, name)));
  }
  const char *def = gpu_profile_default_model(p);
  return json_pack("{s:s, s:s, s:o, s:o, s:{s:s}}", "system", gpu_system_name(gpu_profile_system(p)), "modelLabel",
                   gpu_profile_model_label(p), "defaultModel", def ? json_string(def) : json_null(), "models", models,
                   "hami", "memoryMode", modes[gpu_profile_hami_memory_mode(p)]);
}

static json_t *effective_notebook(const notebook_config *n) {
  json_t *images = json_object();
  for (int i = 0; i < NB_IDE_COUNT; i++) json_object_set_new(images, notebook_ide_name((notebook_ide)i), json_string(n->images[i]));
  json_t *ann = n->ingress_annotations ? json_incref(n->ingress_annotations) : json_object();
  return json_pack("{s:b, s:s, s:s, s:s, s:o, s:s, s:o, s:I, s:I}", "istio", n->istio, "gateway", n->gateway, "host",
                   n->host, "ingressClassName", n->ingress_class, "ingressAnnotations", ann,
                   "urlBase", n->url_base, "images",
                   images, "probePeriodSeconds", (json_int_t)n->probe_period_s, "probeTimeoutSeconds",
                   (json_int_t)n->probe_timeout_s);
}

int mgr_settings_check(const json_t *config, const char *manager_user, json_t **effective, char *err,
                       size_t errlen) {
  *effective = NULL;
  const char *key;
  json_t *v;
  json_object_foreach((json_t *)config, key, v) {
    if (!known_section(key))
      return cubit_errorf(err, errlen, CUBIT_EINVAL,
                          "%.64s: unknown section (want gpu, gang, history, notebook, inference, pipeline, tenancy)",
                          key);
  }
  mgr_settings s;
  inference_config inference;
  pl_config pipeline;
  webhook_identities ids;
  int rc = mgr_settings_parse(config, &s, err, errlen);
  if (rc == 0) rc = inference_config_parse(json_object_get(config, "inference"), &inference, err, errlen);
  if (rc == 0) rc = pl_config_parse(json_object_get(config, "pipeline"), &pipeline, err, errlen);
  if (rc == 0) {
    rc = webhook_identities_parse(json_object_get(config, "tenancy"), manager_user, &ids, err, errlen);
    webhook_identities_free(&ids);
  }
  if (rc == 0) {
    *effective = json_pack(
        "{s:o, s:{s:s, s:s}, s:{s:I, s:I, s:I}, s:o, s:{s:s, s:s}, s:{s:s}}", "gpu",
        s.gpu ? effective_gpu(s.gpu) : json_null(), "gang", "scheduler", gang_scheduler_name(s.gang.scheduler),
        "kueueQueue", s.gang.kueue_queue, "history", "finalizerTimeoutSeconds", (json_int_t)s.history.finalizer_timeout_s,
        "retentionDays", (json_int_t)s.history.retention_days, "maxRuns", (json_int_t)s.history.max_runs,
        "notebook", effective_notebook(&s.notebooks), "inference", "storageInitializerImage",
        inference.storage_initializer, "clusterDomain", inference.cluster_domain, "pipeline", "outputReaderImage",
        pipeline.output_reader_image);
  }
  mgr_settings_free(&s);
  return rc;
}
