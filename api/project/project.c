#include "api/project/project.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/json.h"

const kube_resource project_resource = {"cubit.dev", "v1alpha1", "projects", "Project", 0};

/* ------------------------------------------------------------- spec */

int project_namespace_name_valid(const char *name) {
  size_t n = name ? strlen(name) : 0;
  if (n == 0 || n > 63) return 0;
  for (size_t i = 0; i < n; i++) {
    char c = name[i];
    int alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && !(c == '-' && i > 0 && i + 1 < n)) return 0;
  }
  return 1;
}

static int parse_namespaces(const json_t *list, project_spec *out, char *err, size_t errlen) {
  if (list == NULL || json_is_null(list)) return 0;
  if (!json_is_array(list)) return cubit_errorf(err, errlen, CUBIT_EINVAL, "spec.namespaces: must be a list of names");
  size_t i;
  json_t *v;
  json_array_foreach(list, i, v) {
    const char *ns = json_string_value(v);
    if (!project_namespace_name_valid(ns))
      return cubit_errorf(err, errlen, CUBIT_EINVAL,
                          "spec.namespaces[%zu]: want a namespace name (lower-case letters, digits and '-', at most "
                          "63 characters)", i);
    if (out->nnamespaces == PROJECT_MAX_NAMESPACES)
      return cubit_errorf(err, errlen, CUBIT_EINVAL, "spec.namespaces: at most %d namespaces", PROJECT_MAX_NAMESPACES);
    if (project_lists(out, ns))
      return cubit_errorf(err, errlen, CUBIT_EINVAL, "spec.namespaces[%zu]: namespace %s is listed twice", i, ns);
    out->namespaces[out->nnamespaces++] = ns;
  }
  return 0;
}

static int one_of(const char *s, const char *const *words) {
  for (; s && *words; words++)
    if (strcmp(s, *words) == 0) return 1;
  return 0;
}

static int parse_members(const json_t *members, project_spec *out, char *err, size_t errlen) {
  static const char *const kinds[] = {"User", "Group", "ServiceAccount", NULL};
  static const char *const roles[] = {"admin", "edit", "view", NULL};
  if (members == NULL || json_is_null(members)) return 0;
  if (!json_is_array(members)) return cubit_errorf(err, errlen, CUBIT_EINVAL, "spec.members: must be a list");
  out->members = xcalloc(json_array_size(members) + 1, sizeof(project_member));
  size_t i;
  json_t *v;
  json_array_foreach(members, i, v) {
    const char *kind = js_str(v, "kind"), *name = js_str(v, "name"), *role = js_str(v, "role");
    if (!one_of(kind, kinds))
      return cubit_errorf(err, errlen, CUBIT_EINVAL, "spec.members[%zu].kind: want User, Group or ServiceAccount, got \"%.64s\"",
                          i, kind ? kind : "");
    if (name == NULL || *name == '\0' || strlen(name) >= sizeof(out->members[0].name))
      return cubit_errorf(err, errlen, CUBIT_EINVAL, "spec.members[%zu].name: want a name of 1 to 253 characters", i);
    if (!one_of(role, roles))
      return cubit_errorf(err, errlen, CUBIT_EINVAL, "spec.members[%zu].role: want admin, edit or view, got \"%.64s\"", i,
                          role ? role : "");
    project_member *m = &out->members[out->nmembers++];
    snprintf(m->kind, sizeof(m->kind), "%s", kind);
    snprintf(m->name, sizeof(m->name), "%s", name);
    snprintf(m->role, sizeof(m->role), "%s", role);
  }
  return 0;
}

static int parse_queue(const json_t *queue, project_spec *out, char *err, size_t errlen) {
  if (queue == NULL || json_is_null(queue)) return 0;
  if (!json_is_object(queue)) return cubit_errorf(err, errlen, CUBIT_EINVAL, "spec.queue: must be an object");
  const json_t *w = json_object_get(queue, "weight");
  if (w && !json_is_null(w)) {
    if (!json_is_integer(w) || json_integer_value(w) < 1 || json_integer_value(w) > 65535)
      return cubit_errorf(err, errlen, CUBIT_EINVAL, "spec.queue.weight: want a whole number from 1 to 65535");
    out->queue_weight = (int)json_integer_value(w);
  }
  out->queue_enabled = js_bool(queue, "enabled", -1);
  out->queue_reclaimable = js_bool(queue, "reclaimable", -1);
  return 0;
}

/* volumes.shared.provision {size, storageClassName, accessModes} and
 * volumes.personal (a claim of its own, or a sub-path of the shared one). */
static int parse_volumes(const json_t *vols, project_spec *out, char *err, size_t errlen) {
  if (vols == NULL || json_is_null(vols)) return 0;
  const json_t *shared = json_object_get(vols, "shared");
  out->shared_claim = js_str(shared, "claimName");
  const json_t *prov = json_object_get(shared, "provision");
  if (prov && !json_is_null(prov)) {
    if (!json_is_object(prov))
      return cubit_errorf(err, errlen, CUBIT_EINVAL, "spec.volumes.shared.provision: want {size, storageClassName, accessModes}");
    const char *size = js_str(prov, "size");
    quantity q;
    char why[200];
    if (size == NULL)
      return cubit_errorf(err, errlen, CUBIT_EINVAL, "spec.volumes.shared.provision.size: required (e.g. 100Gi)");
    if (quantity_parse_err(size, &q, why, sizeof(why)))
      return cubit_errorf(err, errlen, CUBIT_EINVAL, "spec.volumes.shared.provision.size: %s", why);
    if (quantity_sign(&q) <= 0)
      return cubit_errorf(err, errlen, CUBIT_EINVAL, "spec.volumes.shared.provision.size: must be positive");
    quantity_string(&q, out->shared_size);
    out->shared_class = js_str(prov, "storageClassName");
    out->shared_modes = json_object_get(prov, "accessModes");
    static const char *const modes[] = {"ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod", NULL};
    if (out->shared_modes && !json_is_array(out->shared_modes))
      return cubit_errorf(err, errlen, CUBIT_EINVAL, "spec.volumes.shared.provision.accessModes: want a list");
    size_t i;
    json_t *m;
    json_array_foreach(out->shared_modes, i, m) {
      if (!one_of(json_string_value(m), modes))
        return cubit_errorf(err, errlen, CUBIT_EINVAL,
                            "spec.volumes.shared.provision.accessModes[%zu]: want ReadWriteOnce, ReadOnlyMany, "
                            "ReadWriteMany or ReadWriteOncePod",
                            i);
    }
    if (json_array_size(out->shared_modes) == 0) out->shared_modes = NULL;
    out->shared_provision = 1;
  }
  const json_t *personal = json_object_get(vols, "personal");
  if (personal && !json_is_null(personal) && js_str(personal, "claimName") == NULL && out->shared_claim == NULL)
    return cubit_errorf(err, errlen, CUBIT_EINVAL,
                        "spec.volumes.personal: without a claimName it is a sub-path of the shared claim, and "
                        "spec.volumes.shared.claimName is not set");
  return 0;
}

/* spec.clusters: [{name, quota}], names of Clusters (or "local"), each
 * once, with an optional quota in spec.quota's grammar. */
static int parse_clusters(const json_t *list, project_spec *out, char *err, size_t errlen) {
  if (list == NULL || json_is_null(list)) return 0;
  if (!json_is_array(list)) return cubit_errorf(err, errlen, CUBIT_EINVAL, "spec.clusters: must be a list");
  size_t i;
  json_t *v;
  json_array_foreach(list, i, v) {
    const char *name = js_str(v, "name");
    if (!project_namespace_name_valid(name))
      return cubit_errorf(err, errlen, CUBIT_EINVAL,
                          "spec.clusters[%zu].name: want the name of a Cluster (a DNS label) or \"local\"", i);
    if (out->nclusters == PROJECT_MAX_CLUSTERS)
      return cubit_errorf(err, errlen, CUBIT_EINVAL, "spec.clusters: at most %d clusters", PROJECT_MAX_CLUSTERS);
    for (size_t j = 0; j < out->nclusters; j++)
      if (strcmp(out->clusters[j], name) == 0)
        return cubit_errorf(err, errlen, CUBIT_EINVAL, "spec.clusters[%zu].name: cluster %s is listed twice", i, name);
    char where[48];
    snprintf(where, sizeof(where), "spec.clusters[%zu].quota", i);
    if (usage_parse_quota(json_object_get(v, "quota"), where, &out->cluster_quota[out->nclusters],
                          &out->cluster_quota_set[out->nclusters], err, errlen))
      return CUBIT_EINVAL;
    out->clusters[out->nclusters++] = name;
  }
  return 0;
}

int project_cluster_index(const project_spec *s, const char *name) {
  for (size_t i = 0; name && i < s->nclusters; i++)
    if (strcmp(s->clusters[i], name) == 0) return (int)i;
  return -1;
}

static const char *const pss_names[] = {
    [PROJECT_PSS_BASELINE] = "baseline", [PROJECT_PSS_RESTRICTED] = "restricted", [PROJECT_PSS_PRIVILEGED] = "privileged"};

const char *project_pod_security_name(project_pod_security level) {
  return (unsigned)level < sizeof(pss_names) / sizeof(pss_names[0]) ? pss_names[level] : "baseline";
}

static int parse_pod_security(const json_t *ps, project_spec *out, char *err, size_t errlen) {
  out->pod_security = PROJECT_PSS_BASELINE;
  if (ps == NULL || json_is_null(ps)) return 0;
  if (!json_is_object(ps)) return cubit_errorf(err, errlen, CUBIT_EINVAL, "spec.podSecurity: must be an object");
  const json_t *level = json_object_get(ps, "level");
  if (level == NULL || json_is_null(level)) return 0;
  const char *l = json_string_value(level);
  for (size_t i = 0; l && i < sizeof(pss_names) / sizeof(pss_names[0]); i++)
    if (strcmp(l, pss_names[i]) == 0) {
      out->pod_security = (project_pod_security)i;
      return 0;
    }
  return cubit_errorf(err, errlen, CUBIT_EINVAL,
                      "spec.podSecurity.level: want baseline, restricted or privileged (a Pod Security Standard), got "
                      "\"%.64s\"",
                      l ? l : "");
}

static int parse_spec(const json_t *spec, project_spec *out, char *err, size_t errlen) {
  if (spec != NULL && !json_is_null(spec) && !json_is_object(spec))
    return cubit_errorf(err, errlen, CUBIT_EINVAL, "spec: must be an object");
  int rc = parse_namespaces(json_object_get(spec, "namespaces"), out, err, errlen);
  if (!rc) rc = parse_members(json_object_get(spec, "members"), out, err, errlen);
  if (rc) return rc;
  const json_t *quota = json_object_get(spec, "quota");
  if (usage_parse_quota(quota, "spec.quota", &out->quota, &out->quota_set, err, errlen) ||
      usage_parse_quota(json_object_get(quota, "perMember"), "spec.quota.perMember", &out->per_member,
                        &out->per_member_set, err, errlen))
    return CUBIT_EINVAL;
  const json_t *policy = json_object_get(spec, "deletionPolicy");
  if (policy && !json_is_null(policy)) {
    const char *p = json_string_value(policy);
    if (p == NULL || (strcmp(p, "Delete") != 0 && strcmp(p, "Retain") != 0))
      return cubit_errorf(err, errlen, CUBIT_EINVAL, "spec.deletionPolicy: want Retain or Delete, got \"%.64s\"",
                          p ? p : "");
    out->delete_namespaces = strcmp(p, "Delete") == 0;
  }
  if (parse_volumes(json_object_get(spec, "volumes"), out, err, errlen)) return CUBIT_EINVAL;
  if (parse_clusters(json_object_get(spec, "clusters"), out, err, errlen)) return CUBIT_EINVAL;
  if (parse_pod_security(json_object_get(spec, "podSecurity"), out, err, errlen)) return CUBIT_EINVAL;
  return parse_queue(json_object_get(spec, "queue"), out, err, errlen);
}

int project_spec_parse(const json_t *p, project_spec *out, char *err, size_t errlen) {
  memset(out, 0, sizeof(*out));
  out->queue_enabled = -1;
  out->queue_weight = 1;
  out->queue_reclaimable = -1;
  if (err && errlen) err[0] = '\0';
  int rc = parse_spec(json_object_get(p, "spec"), out, err, errlen);
  if (rc) project_spec_free(out);
  return rc;
}

void project_spec_free(project_spec *s) {
  free(s->members);
  s->members = NULL;
  s->nmembers = 0;
  s->nnamespaces = 0;
  s->nclusters = 0;
}

int project_lists(const project_spec *s, const char *ns) {
  for (size_t i = 0; ns && i < s->nnamespaces; i++)
    if (strcmp(s->namespaces[i], ns) == 0) return 1;
  return 0;
}

/* ------------------------------------------------------ who changes what */

const char *const project_admin_fields[] = {"members", "displayName", "volumes", NULL};

static int admin_field(const char *key) {
  for (const char *const *f = project_admin_fields; *f; f++)
    if (strcmp(*f, key) == 0) return 1;
  return 0;
}

/* Appends "spec.<key>" to which, joined with ", ". */
static void name_field(char *which, size_t len, size_t *at, const char *key) {
  if (which == NULL || len == 0 || *at + 1 >= len) return;
  int w = snprintf(which + *at, len - *at, "%sspec.%s", *at ? ", " : "", key);
  if (w > 0) *at += (size_t)w;
  if (*at >= len) *at = len - 1;
}

int project_tenancy_changes(const json_t *old_spec, const json_t *new_spec, char *which, size_t len) {
  if (which && len) which[0] = '\0';
  const json_t *a = json_is_object(old_spec) ? old_spec : NULL, *b = json_is_object(new_spec) ? new_spec : NULL;
  size_t at = 0;
  int n = 0;
  const char *key;
  json_t *v;
  /* Fields that are in the new spec and differ from (or are absent in) the old. */
  json_object_foreach((json_t *)b, key, v) {
    if (admin_field(key)) continue;
    json_t *was = json_object_get(a, key);
    if (was && json_equal(was, v)) continue;
    if (was == NULL && json_is_null(v)) continue;
    name_field(which, len, &at, key);
    n++;
  }
  /* Fields that were removed. */
  json_object_foreach((json_t *)a, key, v) {
    if (admin_field(key) || json_object_get(b, key) || json_is_null(v)) continue;
    name_field(which, len, &at, key);
    n++;
  }
  /* Provisioning a claim spends the cluster's storage as a quota spends its
   * cards: a project admin may point the volumes at claims, not make them. */
  const json_t *pa = js_get(a, "volumes.shared.provision"), *pb = js_get(b, "volumes.shared.provision");
  if (json_is_null(pa)) pa = NULL;
  if (json_is_null(pb)) pb = NULL;
  if ((pa || pb) && !(pa && pb && json_equal(pa, pb))) {
    name_field(which, len, &at, "volumes.shared.provision");
    n++;
  }
  return n;
}
