/* The manager's settings for InferenceServices (the "inference" section of
 * its --config file, docs/inferenceservice.md). */
#include <stdio.h>
#include <string.h>

#include "controllers/inferenceservice/inferenceservice.h"
#include "util/json.h"

/* A DNS subdomain (RFC 1123): what a Service's FQDN is built on. */
static int valid_domain(const char *s) {
  size_t n = strlen(s), label = 0;
  if (n == 0 || n > 253) return 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (c == '.') {
      if (label == 0 || s[i - 1] == '-') return 0;
      label = 0;
    } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c == '-' && label > 0)) {
      if (++label > 63) return 0;
    } else {
      return 0;
    }
  }
  return label > 0 && s[n - 1] != '-';
}

int inference_config_parse(const json_t *section, inference_config *out, char *err, size_t errlen) {
  memset(out, 0, sizeof(*out));
  snprintf(out->storage_initializer, sizeof(out->storage_initializer), "%s", INFERENCE_DEFAULT_STORAGE_INITIALIZER);
  snprintf(out->cluster_domain, sizeof(out->cluster_domain), "cluster.local");
  if (section == NULL || json_is_null(section)) return 0;
  if (!json_is_object(section)) return cubit_errorf(err, errlen, CUBIT_EINVAL, "inference: want a mapping");
  const char *key;
  json_t *v;
  json_object_foreach((json_t *)section, key, v) {
    if (strcmp(key, "storageInitializerImage") == 0) {
      const char *s = json_string_value(v);
      if (s == NULL || *s == '\0' || strlen(s) >= sizeof(out->storage_initializer) || strpbrk(s, " \t\r\n"))
        return cubit_errorf(err, errlen, CUBIT_EINVAL,
                            "inference.storageInitializerImage: want an image reference of at most %zu characters",
                            sizeof(out->storage_initializer) - 1);
      snprintf(out->storage_initializer, sizeof(out->storage_initializer), "%s", s);
    } else if (strcmp(key, "clusterDomain") == 0) {
      const char *s = json_string_value(v);
      if (s == NULL || !valid_domain(s))
        return cubit_errorf(err, errlen, CUBIT_EINVAL,
                            "inference.clusterDomain: want a DNS name such as cluster.local (lower-case letters, "
                            "digits, '-' and '.', at most 253 characters)");
      snprintf(out->cluster_domain, sizeof(out->cluster_domain), "%s", s);
    } else {
      return cubit_errorf(err, errlen, CUBIT_EINVAL,
                          "inference.%.64s: unknown setting (want storageInitializerImage, clusterDomain)", key);
    }
  }
  return 0;
}
