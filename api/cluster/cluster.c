#include "api/cluster/cluster.h"

#include <string.h>

#include "api/project/project.h"
#include "util/json.h"

const kube_resource cluster_resource = {"cubit.dev", "v1alpha1", "clusters", "Cluster", 0};

/* A field that must be a non-empty string when present. */
static int opt_str(const json_t *parent, const char *key, const char *where, const char **out, char *err,
                   size_t errlen) {
  const json_t *v = json_object_get(parent, key);
  *out = NULL;
  if (v == NULL || json_is_null(v)) return 0;
  if (!json_is_string(v) || json_string_length(v) == 0)
    return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s.%s: must be a non-empty string", where, key);
  *out = json_string_value(v);
  return 0;
}

/* spec.gangScheduler by the manager's own parser, its words ("gang.scheduler:
 * ...") told of the field they are about. */
static int gang_scheduler_parse(const json_t *j, gang_config *out, char *err, size_t errlen) {
  char why[256] = "";
  if (gang_config_parse(j, out, why, sizeof(why)) == 0) return 0;
  const char *rest = strncmp(why, "gang", 4) == 0 ? why + 4 : why;
  return cubit_errorf(err, errlen, CUBIT_EINVAL, "spec.gangScheduler%s%s", *rest == '.' || *rest == ':' ? "" : ": ",
                      rest);
}

/* spec.gateway: {name: "<namespace>/<name>", urlBase: "http(s)://host[/path]"},
 * both required when the field is there. */
static int gateway_parse(const json_t *g, cluster_spec *out, char *err, size_t errlen) {
  if (g == NULL || json_is_null(g)) return 0;
  if (!json_is_object(g)) return cubit_errorf(err, errlen, CUBIT_EINVAL, "spec.gateway: want an object");
  int rc = opt_str(g, "name", "spec.gateway", &out->gateway, err, errlen);
  if (!rc) rc = opt_str(g, "urlBase", "spec.gateway", &out->gateway_url_base, err, errlen);
  if (rc) return rc;
  const char *slash = out->gateway ? strchr(out->gateway, '/') : NULL;
  if (slash == NULL || slash == out->gateway || slash[1] == '\0' || strchr(slash + 1, '/'))
    return cubit_errorf(err, errlen, CUBIT_EINVAL,
                        "spec.gateway.name: want \"<namespace>/<name>\" of an Istio Gateway, got \"%.64s\"",
                        out->gateway ? out->gateway : "");
  const char *u = out->gateway_url_base;
  if (u == NULL || !((strncmp(u, "https://", 8) == 0 && u[8]) || (strncmp(u, "http://", 7) == 0 && u[7])) ||
      strpbrk(u, " \t\r\n?#"))
    return cubit_errorf(err, errlen, CUBIT_EINVAL,
                        "spec.gateway.urlBase: want the http:// or https:// URL users reach the gateway at, "
                        "got \"%.64s\"",
                        u ? u : "");
  return 0;
}

int cluster_spec_parse(const json_t *obj, cluster_spec *out, char *err, size_t errlen) {
  memset(out, 0, sizeof(*out));
  const char *name = js_name(obj);
  /* An RFC 1123 label, the rule of a namespace's name: a cluster's name
   * ends up in labels and namespaced object names of the members. */
  if (!project_namespace_name_valid(name))
    return cubit_errorf(err, errlen, CUBIT_EINVAL,
                        "metadata.name: want a DNS label (lower-case letters, digits and '-', at most 63)");
  if (strcmp(name, CLUSTER_LOCAL) == 0)
    return cubit_errorf(err, errlen, CUBIT_EINVAL,
                        "metadata.name: \"" CLUSTER_LOCAL "\" names the hub's own cluster; choose another name");
  const json_t *kc = js_get(obj, "spec.kubeconfig");
  if (!json_is_object(kc)) return cubit_errorf(err, errlen, CUBIT_EINVAL, "spec.kubeconfig: not set");
  const json_t *ref = json_object_get(kc, "secretRef");
  if (!json_is_object(ref)) return cubit_errorf(err, errlen, CUBIT_EINVAL, "spec.kubeconfig.secretRef: not set");
  const char *where = "spec.kubeconfig.secretRef";
  int rc = opt_str(ref, "namespace", where, &out->secret_namespace, err, errlen);
  if (!rc) rc = opt_str(ref, "name", where, &out->secret_name, err, errlen);
  if (!rc) rc = opt_str(ref, "key", where, &out->secret_key, err, errlen);
  if (!rc) rc = opt_str(kc, "context", "spec.kubeconfig", &out->context, err, errlen);
  if (rc) return rc;
  if (out->secret_name == NULL) return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s.name: not set", where);
  if (out->secret_key == NULL) out->secret_key = CLUSTER_DEFAULT_KEY;
  const json_t *labels = js_get(obj, "spec.labels");
  if (labels && !json_is_null(labels)) {
    if (!json_is_object(labels)) return cubit_errorf(err, errlen, CUBIT_EINVAL, "spec.labels: must be a mapping");
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)labels, k, v) {
      if (!json_is_string(v))
        return cubit_errorf(err, errlen, CUBIT_EINVAL, "spec.labels.%s: must be a string", k);
    }
    out->labels = labels;
  }
  rc = gateway_parse(js_get(obj, "spec.gateway"), out, err, errlen);
  return rc ? rc : gang_scheduler_parse(js_get(obj, "spec.gangScheduler"), &out->gang, err, errlen);
}
