/* Member pod logs through the hub (runtime/member_logs.h). */
#include "runtime/member_logs.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/json.h"
#include "util/time.h"

/* A DNS-1123 subdomain (max 'max' characters; a label when no dots are
 * allowed): what namespaces, object, pod and container names are. */
static int dns_name(const char *s, size_t len, size_t max, int dots) {
  if (len == 0 || len > max) return 0;
  for (size_t i = 0; i < len; i++) {
    char c = s[i];
    int edge = i == 0 || i == len - 1;
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) continue;
    if ((c == '-' || (dots && c == '.')) && !edge) continue;
    return 0;
  }
  return 1;
}

static int failf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int failf(char *err, size_t errlen, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
  return CUBIT_EINVAL;
}

/* The next '/'-separated segment of *p into out (of size outsz); NULL-safe. */
static int segment(const char **p, const char *what, size_t max, int dots, char *out, size_t outsz, char *err,
                   size_t errlen) {
  const char *s = *p, *end = strchr(s, '/');
  size_t len = end ? (size_t)(end - s) : strlen(s);
  if (len == 0) return failf(err, errlen, "path: %s missing", what);
  if (!dns_name(s, len, max, dots) || len >= outsz)
    return failf(err, errlen, "path: %s \"%.*s\" is not a valid name (lower-case letters, digits, '-'%s; at most %zu)",
                 what, (int)(len > 80 ? 80 : len), s, dots ? ", '.'" : "", max);
  memcpy(out, s, len);
  out[len] = '\0';
  *p = end ? end + 1 : s + len;
  return 0;
}

static int literal(const char **p, const char *word, char *err, size_t errlen) {
  size_t n = strlen(word);
  if (strncmp(*p, word, n) != 0 || ((*p)[n] != '/' && (*p)[n] != '\0'))
    return failf(err, errlen, "path: \"%s\" expected", word);
  *p += (*p)[n] == '/' ? n + 1 : n;
  return 0;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Percent-decodes [s, s+len) into out (size outsz); -1 when malformed or too long. */
static int decode(const char *s, size_t len, char *out, size_t outsz) {
  size_t o = 0;
  for (size_t i = 0; i < len; i++) {
    char c = s[i];
    if (c == '%') {
      if (i + 2 >= len) return -1;
      int hi = hexval(s[i + 1]), lo = hexval(s[i + 2]);
      if (hi < 0 || lo < 0) return -1;
      c = (char)(hi * 16 + lo);
      i += 2;
    } else if (c == '+') {
      c = ' ';
    }
    if (c == '\0' || o + 1 >= outsz) return -1;
    out[o++] = c;
  }
  out[o] = '\0';
  return 0;
}

static int number(const char *key, const char *v, long min, long max, long *out, char *err, size_t errlen) {
  char *end;
  errno = 0;
  long n = strtol(v, &end, 10);
  if (*v == '\0' || *end != '\0' || errno || !isdigit((unsigned char)v[0]) || n < min || n > max)
    return failf(err, errlen, "%s: \"%s\" is not a whole number from %ld to %ld", key, v, min, max);
  *out = n;
  return 0;
}

static int parse_param(rt_logs_request *r, const char *key, const char *v, unsigned *seen, char *err, size_t errlen) {
  static const char *const keys[] = {"container", "tailLines", "limitBytes", "sinceTime", "timestamps"};
  size_t k = 0;
  while (k < sizeof(keys) / sizeof(keys[0]) && strcmp(keys[k], key) != 0) k++;
  if (k == sizeof(keys) / sizeof(keys[0]))
    return failf(err, errlen, "query: unknown parameter \"%.64s\" (container, tailLines, limitBytes, sinceTime, "
                              "timestamps)", key);
  if (*seen & (1u << k)) return failf(err, errlen, "query: %s given twice", key);
  *seen |= 1u << k;
  if (!r->want_log) return failf(err, errlen, "query: %s applies to a pod's log, not to the listing", key);
  switch (k) {
    case 0:
      if (!dns_name(v, strlen(v), 63, 0))
        return failf(err, errlen, "container: \"%.64s\" is not a container name", v);
      snprintf(r->container, sizeof(r->container), "%s", v);
      return 0;
    case 1: return number(key, v, 0, RT_LOGS_MAX_LINES, &r->tail_lines, err, errlen);
    case 2: return number(key, v, 1, RT_LOGS_MAX_BYTES, &r->limit_bytes, err, errlen);
    case 3: {
      int64_t t;
      if (time_parse_rfc3339(v, &t) || t < 0)
        return failf(err, errlen, "sinceTime: \"%.64s\" is not an RFC 3339 time", v);
      time_format_rfc3339(t, r->since_time);
      return 0;
    }
    default:
      if (strcmp(v, "true") != 0 && strcmp(v, "false") != 0)
        return failf(err, errlen, "timestamps: \"%.16s\" is neither true nor false", v);
      r->timestamps = v[0] == 't';
      return 0;
  }
}

int rt_logs_parse(const char *path, const char *query, rt_logs_request *r, char *err, size_t errlen) {
  memset(r, 0, sizeof(*r));
  r->tail_lines = -1;
  r->limit_bytes = RT_LOGS_MAX_BYTES;
  size_t plen = strlen(RT_LOGS_PREFIX);
  if (strncmp(path, RT_LOGS_PREFIX, plen) != 0) return failf(err, errlen, "path: not under %s", RT_LOGS_PREFIX);
  const char *p = path + plen;
  int rc;
  if ((rc = literal(&p, "namespaces", err, errlen)) || (rc = segment(&p, "namespace", 63, 0, r->ns, sizeof(r->ns), err, errlen)) ||
      (rc = segment(&p, "resource", 63, 0, r->plural, sizeof(r->plural), err, errlen)) ||
      (rc = segment(&p, "name", 253, 1, r->name, sizeof(r->name), err, errlen)) ||
      (rc = literal(&p, "pods", err, errlen)))
    return rc;
  if (*p) {
    if ((rc = segment(&p, "pod", 253, 1, r->pod, sizeof(r->pod), err, errlen)) || (rc = literal(&p, "log", err, errlen)))
      return rc;
    if (*p) return failf(err, errlen, "path: nothing may follow \"log\"");
    r->want_log = 1;
  }
  unsigned seen = 0;
  for (const char *q = query ? query : ""; *q;) {
    const char *amp = strchr(q, '&');
    size_t len = amp ? (size_t)(amp - q) : strlen(q);
    const char *eq = memchr(q, '=', len);
    char key[32], value[128];
    if (len && (eq == NULL || decode(q, (size_t)(eq - q), key, sizeof(key)) ||
                decode(eq + 1, len - (size_t)(eq - q) - 1, value, sizeof(value))))
      return failf(err, errlen, "query: \"%.*s\" is not name=value", (int)(len > 64 ? 64 : len), q);
    if (len && (rc = parse_param(r, key, value, &seen, err, errlen))) return rc;
    q = amp ? amp + 1 : q + len;
  }
  return 0;
}

void rt_logs_access(const rt_logs_request *r, rt_access *out) {
  *out = (rt_access){.verb = r->want_log ? "get" : "list",
                     .group = "",
                     .resource = "pods",
                     .subresource = r->want_log ? "log" : NULL,
                     .ns = r->ns,
                     .name = r->want_log ? r->pod : NULL};
}

char *rt_logs_member_query(const rt_logs_request *r) {
  char tail[48] = "", since[64] = "";
  if (r->tail_lines >= 0) snprintf(tail, sizeof(tail), "&tailLines=%ld", r->tail_lines);
  /* ':' is kept by servers as is; the time was re-formatted by the parser. */
  if (r->since_time[0]) snprintf(since, sizeof(since), "&sinceTime=%s", r->since_time);
  return xasprintf("limitBytes=%ld%s%s%s%s%s", r->limit_bytes, r->container[0] ? "&container=" : "", r->container,
                   tail, since, r->timestamps ? "&timestamps=true" : "");
}

/* ------------------------------------------------------------------ serving */

static int answer(cubit_buf *out, const char **content_type, int status, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int answer(cubit_buf *out, const char **content_type, int status, const char *reason, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *msg = xvasprintf(fmt, ap);
  va_end(ap);
  json_t *body = json_pack("{s:s, s:s}", "reason", reason, "message", msg);
  char *text = json_dumps(body, JSON_COMPACT);
  buf_reset(out);
  if (text == NULL || buf_appends(out, text) || buf_appends(out, "\n")) status = 500;
  free(text);
  json_decref(body);
  free(msg);
  *content_type = "application/json";
  return status;
}

/* Is pod the owner's child: the label names it, and an owner-uid label,
 * when the pod has one, is the owner's uid. */
static int child_of(const json_t *pod, const json_t *owner, const char *label) {
  const json_t *labels = js_get(pod, "metadata.labels");
  const char *named = json_string_value(json_object_get(labels, label));
  const char *uid = json_string_value(json_object_get(labels, "cubit.dev/owner-uid"));
  return named && strcmp(named, js_name(owner)) == 0 && (uid == NULL || (js_uid(owner) && strcmp(uid, js_uid(owner)) == 0));
}

/* What a CLI needs of a pod: which, its containers and their state. */
static json_t *pod_summary(const json_t *pod) {
  json_t *s = json_object();
  json_t *meta = json_object();
  const char *keep[] = {"name", "namespace", "uid", "labels", "annotations", "creationTimestamp"};
  for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
    json_t *v = json_object_get(json_object_get(pod, "metadata"), keep[i]);
    if (v) json_object_set(meta, keep[i], v);
  }
  json_object_set_new(s, "metadata", meta);
  json_t *containers = json_array();
  size_t i;
  json_t *c;
  json_array_foreach(js_get(pod, "spec.containers"), i, c) {
    json_array_append_new(containers, json_pack("{s:s}", "name", js_str(c, "name") ? js_str(c, "name") : ""));
  }
  json_object_set_new(s, "spec", json_pack("{s:o}", "containers", containers));
  json_t *st = json_object();
  const char *sk[] = {"phase", "containerStatuses"};
  for (size_t k = 0; k < 2; k++) {
    json_t *v = json_object_get(json_object_get(pod, "status"), sk[k]);
    if (v) json_object_set(st, sk[k], v);
  }
  json_object_set_new(s, "status", st);
  return s;
}

int rt_logs_serve(const rt_logs_deps *d, const char *path, const char *query, const char *authorization,
                  cubit_buf *out, const char **content_type) {
  char err[512] = "", why[512] = "";
  rt_logs_request r;
  if (rt_logs_parse(path, query, &r, err, sizeof(err))) return answer(out, content_type, 400, "BadRequest", "%s", err);
  char token[8192];
  if (rt_authz_bearer(authorization, token, sizeof(token)))
    return answer(out, content_type, 401, "Unauthorized",
                  "a bearer token is needed (Authorization, or X-Cubit-Authorization through the service proxy)");
  json_t *user = NULL;
  int rc = d->authenticate(d->arg, token, &user, why, sizeof(why));
  if (rc != 1) {
    if (rc == 0) return answer(out, content_type, 401, "Unauthorized", "the token was not accepted: %s", why);
    return answer(out, content_type, 503, "ServiceUnavailable", "cannot authenticate the caller now: %s", why);
  }
  rt_access access;
  rt_logs_access(&r, &access);
  rc = d->review(d->arg, user, &access, why, sizeof(why));
  const char *who = js_str(user, "username") ? js_str(user, "username") : "the caller";
  if (rc != 1) {
    int status = rc == 0
                     ? answer(out, content_type, 403, "Forbidden", "%s may not %s pods%s in namespace %s on the hub%s%s",
                              who, access.verb, r.want_log ? "/log" : "", r.ns, why[0] ? ": " : "", why)
                     : answer(out, content_type, 503, "ServiceUnavailable", "cannot authorise the caller now: %s", why);
    json_decref(user);
    return status;
  }
  json_decref(user);
  const char *label = NULL;
  json_t *owner = d->owner(d->arg, r.plural, r.ns, r.name, &label);
  if (owner == NULL) {
    if (label == NULL) return answer(out, content_type, 404, "NotFound", "%s: not a kind placed on member clusters", r.plural);
    return answer(out, content_type, 404, "NotFound", "%s %s/%s not found on the hub", r.plural, r.ns, r.name);
  }
  const char *cluster = js_str(owner, "status.cluster");
  if (cluster == NULL || *cluster == '\0' || strcmp(cluster, "local") == 0) {
    int status = answer(out, content_type, 409, "NotPlacedOnMember",
                        "%s %s/%s runs in the hub, not on a member: read its pods' logs with kubectl logs", r.plural,
                        r.ns, r.name);
    json_decref(owner);
    return status;
  }
  char selector[400];
  snprintf(selector, sizeof(selector), "%s=%s", label, r.name);
  json_t *items = NULL;
  int status;
  if (d->list_pods(d->arg, cluster, r.ns, selector, &items, why, sizeof(why))) {
    status = answer(out, content_type, 502, "MemberUnavailable", "cluster %s: cannot list the pods of %s %s/%s: %s",
                    cluster, r.plural, r.ns, r.name, why);
    json_decref(owner);
    return status;
  }
  json_t *mine = json_array();
  const json_t *pod = NULL;
  size_t i;
  json_t *it;
  json_array_foreach(items, i, it) {
    if (!child_of(it, owner, label)) continue;
    json_array_append_new(mine, pod_summary(it));
    if (r.want_log && strcmp(js_name(it) ? js_name(it) : "", r.pod) == 0) pod = it;
  }
  if (!r.want_log) {
    json_t *body = json_pack("{s:s, s:O}", "cluster", cluster, "items", mine);
    char *text = json_dumps(body, JSON_COMPACT);
    buf_reset(out);
    status = text == NULL || buf_appends(out, text) ? 500 : 200;
    *content_type = "application/json";
    free(text);
    json_decref(body);
  } else if (pod == NULL) {
    status = answer(out, content_type, 404, "NotFound", "pod %s is not one of %s %s/%s's pods in cluster %s", r.pod,
                    r.plural, r.ns, r.name, cluster);
  } else {
    char *q = rt_logs_member_query(&r);
    long member_status = 0;
    buf_reset(out);
    if (d->read_log(d->arg, cluster, r.ns, r.pod, q, out, &member_status, why, sizeof(why))) {
      /* The member's own refusal (a container not started, not found) is the user's to read. */
      int st = member_status >= 400 && member_status < 500 ? (int)member_status : 502;
      status = answer(out, content_type, st, st == 502 ? "MemberUnavailable" : "MemberRefused",
                      "cluster %s: pod %s/%s's log: %s", cluster, r.ns, r.pod, why);
    } else {
      status = 200;
      *content_type = "text/plain; charset=utf-8";
    }
    free(q);
  }
  json_decref(mine);
  json_decref(items);
  json_decref(owner);
  return status;
}
