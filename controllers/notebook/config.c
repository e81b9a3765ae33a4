/* The manager's settings for notebooks (the "notebook" section of its
 * --config file, docs/notebook.md): routes, URL, default images, probing. */
#include <stdio.h>
#include <string.h>

#include "controllers/notebook/notebook.h"
#include "util/json.h"

/* Images whose entry points accept the commands of children.c. */
static const char *default_images[NB_IDE_COUNT] = {
    "quay.io/jupyter/scipy-notebook:python-3.12",
    "docker.io/codercom/code-server:4.96.4",
    "docker.io/rocker/rstudio:4.4.2",
};

/* An integer setting in [min, max], or def when absent. */
static int int_setting(const json_t *section, const char *key, int64_t min, int64_t max, int64_t def, int64_t *out,
                       char *err, size_t errlen) {
  json_t *v = json_object_get(section, key);
  if (v == NULL) {
    *out = def;
    return 0;
  }
  if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
    snprintf(err, errlen, "notebook.%s: want an integer from %lld to %lld", key, (long long)min, (long long)max);
    return CUBIT_EINVAL;
  }
  *out = json_integer_value(v);
  return 0;
}

static int copy_string(const json_t *section, const char *key, char *out, size_t outlen, char *err, size_t errlen) {
  json_t *v = json_object_get(section, key);
  if (v == NULL) return 0;
  if (!json_is_string(v) || json_string_length(v) >= outlen) {
    snprintf(err, errlen, "notebook.%s: want a string of at most %zu characters", key, outlen - 1);
    return CUBIT_EINVAL;
  }
  snprintf(out, outlen, "%s", json_string_value(v));
  return 0;
}

int notebook_config_parse(const json_t *section, const gpu_profile *gpu, notebook_config *out, char *err,
                          size_t errlen) {
  memset(out, 0, sizeof(*out));
  out->istio = 1;
  snprintf(out->gateway, sizeof(out->gateway), "cubit-system/cubit-gateway");
  out->probe_period_s = 60;
  out->probe_timeout_s = 5;
  out->gpu = gpu;
  for (int i = 0; i < NB_IDE_COUNT; i++) snprintf(out->images[i], sizeof(out->images[i]), "%s", default_images[i]);
  if (section == NULL || json_is_null(section)) return 0;
  if (!json_is_object(section)) {
    snprintf(err, errlen, "notebook: want a mapping");
    return CUBIT_EINVAL;
  }
  static const char *known[] = {"istio",   "gateway", "host",  "ingressClassName", "ingressAnnotations",
                                "urlBase", "images",  "probePeriodSeconds", "probeTimeoutSeconds"};
  const char *key;
  json_t *v;
  json_object_foreach((json_t *)section, key, v) {
    size_t k = 0;
    while (k < sizeof(known) / sizeof(known[0]) && strcmp(known[k], key) != 0) k++;
    if (k == sizeof(known) / sizeof(known[0])) {
      snprintf(err, errlen, "notebook.%s: unknown setting", key);
      return CUBIT_EINVAL;
    }
  }
  v = json_object_get(section, "istio");
  if (v && !json_is_boolean(v)) {
    snprintf(err, errlen, "notebook.istio: want true or false");
    return CUBIT_EINVAL;
  }
  if (v) out->istio = json_is_true(v);
  if (copy_string(section, "gateway", out->gateway, sizeof(out->gateway), err, errlen) ||
      copy_string(section, "host", out->host, sizeof(out->host), err, errlen) ||
      copy_string(section, "ingressClassName", out->ingress_class, sizeof(out->ingress_class), err, errlen) ||
      copy_string(section, "urlBase", out->url_base, sizeof(out->url_base), err, errlen))
    return CUBIT_EINVAL;
  size_t n = strlen(out->url_base);
  while (n > 0 && out->url_base[n - 1] == '/') out->url_base[--n] = '\0'; /* the path adds its own '/' */
  json_t *images = json_object_get(section, "images");
  json_object_foreach(images, key, v) {
    int i = 0;
    while (i < NB_IDE_COUNT && strcmp(notebook_ide_name((notebook_ide)i), key) != 0) i++;
    if (i == NB_IDE_COUNT || !json_is_string(v) || json_string_length(v) == 0 ||
        json_string_length(v) >= sizeof(out->images[0])) {
      snprintf(err, errlen, "notebook.images.%s: want an image for jupyter, vscode or rstudio", key);
      return CUBIT_EINVAL;
    }
    snprintf(out->images[i], sizeof(out->images[i]), "%s", json_string_value(v));
  }
  json_t *ann = json_object_get(section, "ingressAnnotations");
  if (ann) {
    json_object_foreach(ann, key, v) {
      if (!json_is_string(v)) {
        snprintf(err, errlen, "notebook.ingressAnnotations.%s: want a string", key);
        return CUBIT_EINVAL;
      }
    }
    if (!json_is_object(ann)) {
      snprintf(err, errlen, "notebook.ingressAnnotations: want a mapping of strings");
      return CUBIT_EINVAL;
    }
    out->ingress_annotations = json_deep_copy(ann);
  }
  if (int_setting(section, "probePeriodSeconds", 1, 86400, 60, &out->probe_period_s, err, errlen) ||
      int_setting(section, "probeTimeoutSeconds", 1, 60, 5, &out->probe_timeout_s, err, errlen)) {
    notebook_config_free(out);
    return CUBIT_EINVAL;
  }
  return 0;
}

void notebook_config_free(notebook_config *c) {
  json_decref(c->ingress_annotations);
  c->ingress_annotations = NULL;
}
