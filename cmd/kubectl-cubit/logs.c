/* Which pods a logs command reads, and the per-pod prefixes of their lines.
 * Pure: objects in, a selection or text out. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/labels.h"
#include "cli.h"
#include "util/alloc.h"
#include "util/json.h"

static const char *label(const json_t *o, const char *key) {
  return json_string_value(json_object_get(js_get(o, "metadata.labels"), key));
}

static long attempt_of(const json_t *tj) {
  const char *a = label(tj, CUBIT_LABEL_ATTEMPT);
  return a ? atol(a) : 0;
}

static int by_task_attempt(const void *a, const void *b) {
  const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
  const char *tx = label(x, CUBIT_LABEL_TASK), *ty = label(y, CUBIT_LABEL_TASK);
  int c = strcmp(tx ? tx : "", ty ? ty : "");
  if (c) return c;
  long nx = attempt_of(x), ny = attempt_of(y);
  return (nx > ny) - (nx < ny);
}

static json_t *sorted_array(json_t **items, size_t n, int (*cmp)(const void *, const void *)) {
  qsort(items, n, sizeof(*items), cmp);
  json_t *out = json_array();
  for (size_t i = 0; out && i < n; i++) json_array_append(out, items[i]);
  return out;
}

json_t *cli_pick_attempts(const json_t *tjs, const char *task, int attempt, int all) {
  size_t n = json_array_size(tjs), k = 0;
  json_t **keep = xcalloc(n ? n : 1, sizeof(*keep));
  for (size_t i = 0; i < n; i++) {
    json_t *tj = json_array_get(tjs, i);
    const char *t = label(tj, CUBIT_LABEL_TASK);
    if (t == NULL || (task && strcmp(t, task))) continue;
    if (attempt && attempt_of(tj) != attempt) continue;
    if (!all && !attempt) {
      /* Only the newest attempt of its task. */
      int newer = 0;
      for (size_t j = 0; j < n && !newer; j++) {
        json_t *o = json_array_get(tjs, j);
        const char *ot = label(o, CUBIT_LABEL_TASK);
        newer = ot && strcmp(ot, t) == 0 && attempt_of(o) > attempt_of(tj);
      }
      if (newer) continue;
    }
    keep[k++] = tj;
  }
  json_t *out = sorted_array(keep, k, by_task_attempt);
  free(keep);
  return out;
}

/* The replica index of a pod: the engines' labels, else the number that
 * ends its name ("train-worker-3"); -1 when there is none. */
static long replica_of(const json_t *pod) {
  const char *v = label(pod, "training.kubeflow.org/replica-index");
  if (v == NULL) v = label(pod, "batch.kubernetes.io/job-completion-index");
  if (v == NULL) v = json_string_value(json_object_get(js_get(pod, "metadata.annotations"),
                                                       "batch.kubernetes.io/job-completion-index"));
  if (v == NULL) v = label(pod, "volcano.sh/task-index");
  if (v) return atol(v);
  const char *name = js_name(pod);
  if (name == NULL) return -1;
  size_t len = strlen(name), i = len;
  while (i > 0 && isdigit((unsigned char)name[i - 1])) i--;
  if (i == len || i == 0 || name[i - 1] != '-') return -1;
  return atol(name + i);
}

static int by_name(const void *a, const void *b) {
  const char *x = js_name(*(json_t *const *)a), *y = js_name(*(json_t *const *)b);
  return strcmp(x ? x : "", y ? y : "");
}

json_t *cli_pick_pods(const json_t *pods, const char *role, int replica) {
  size_t n = json_array_size(pods), k = 0;
  json_t **keep = xcalloc(n ? n : 1, sizeof(*keep));
  for (size_t i = 0; i < n; i++) {
    json_t *pod = json_array_get(pods, i);
    const char *r = label(pod, CUBIT_LABEL_ROLE);
    if (role && (r == NULL || strcmp(r, role))) continue;
    if (replica >= 0 && replica_of(pod) != replica) continue;
    keep[k++] = pod;
  }
  json_t *out = sorted_array(keep, k, by_name);
  free(keep);
  return out;
}

const char *cli_log_container(const json_t *pod) {
  const char *d = json_string_value(
      json_object_get(js_get(pod, "metadata.annotations"), "kubectl.kubernetes.io/default-container"));
  if (d) return d;
  return js_str(json_array_get(js_get(pod, "spec.containers"), 0), "name");
}

void cli_prefixer_init(cli_prefixer *p, const char *lbl) {
  if (lbl && *lbl) snprintf(p->prefix, sizeof(p->prefix), "[%s] ", lbl);
  else p->prefix[0] = '\0';
  buf_init(&p->partial, 1 << 20);
}

static int emit(cli_prefixer *p, const char *line, size_t len, cubit_buf *out) {
  if (buf_appends(out, p->prefix) || buf_append(out, line, len) || buf_append(out, "\n", 1)) return CUBIT_ENOMEM;
  return 0;
}

int cli_prefixer_feed(cli_prefixer *p, const char *data, size_t len, cubit_buf *out) {
  while (len) {
    const char *nl = memchr(data, '\n', len);
    if (nl == NULL) {
      /* A line longer than the cap is written in pieces rather than lost. */
      if (p->partial.len + len > p->partial.max) {
        int rc = cli_prefixer_flush(p, out);
        if (rc) return rc;
      }
      return buf_append(&p->partial, data, len) ? CUBIT_ENOMEM : 0;
    }
    size_t n = (size_t)(nl - data);
    int rc;
    if (p->partial.len) {
      if (buf_append(&p->partial, data, n)) return CUBIT_ENOMEM;
      rc = emit(p, p->partial.data, p->partial.len, out);
      buf_reset(&p->partial);
    } else {
      rc = emit(p, data, n, out);
    }
    if (rc) return rc;
    data += n + 1;
    len -= n + 1;
  }
  return 0;
}

int cli_prefixer_flush(cli_prefixer *p, cubit_buf *out) {
  if (p->partial.len == 0) return 0;
  int rc = emit(p, p->partial.data, p->partial.len, out);
  buf_reset(&p->partial);
  return rc;
}

void cli_prefixer_free(cli_prefixer *p) { buf_free(&p->partial); }

/* ---------------------------------------------------------- member logs */

const char *cli_member_of(const json_t *tj) {
  const char *cluster = js_str(tj, "status.cluster");
  return cluster && *cluster && strcmp(cluster, "local") != 0 ? cluster : NULL;
}

char *cli_member_logs_path(const char *ns, const char *plural, const char *owner, const char *pod, const char *container,
                           const char *since, int timestamps) {
  if (pod == NULL) return xasprintf("/cluster-logs/v1/namespaces/%s/%s/%s/pods", ns, plural, owner);
  return xasprintf("/cluster-logs/v1/namespaces/%s/%s/%s/pods/%s/log?container=%s%s%s%s", ns, plural, owner, pod,
                   container, since ? "&sinceTime=" : "", since ? since : "", timestamps ? "&timestamps=true" : "");
}

/* A log line's RFC 3339 timestamp made comparable as a string: the
 * fraction padded to nine digits ("...:05.5Z" -> "...:05.500000000Z").
 * 0, or -1 when the line does not start with one. */
static int sortable_time(const char *s, size_t len, char out[40], size_t *used) {
  size_t i = 0;
  while (i < len && i < 20 && s[i] != '.' && s[i] != 'Z' && s[i] != ' ') i++;
  if (i != 19 || i >= len) return -1;
  memcpy(out, s, 19);
  size_t o = 19;
  out[o++] = '.';
  size_t digits = 0;
  if (s[i] == '.')
    for (i++; i < len && isdigit((unsigned char)s[i]) && digits < 9; i++, digits++) out[o++] = s[i];
  while (i < len && isdigit((unsigned char)s[i])) i++; /* beyond nanoseconds: ignored */
  if (i >= len || s[i] != 'Z' || i + 1 >= len || s[i + 1] != ' ') return -1;
  for (; digits < 9; digits++) out[o++] = '0';
  out[o++] = 'Z';
  out[o] = '\0';
  *used = i + 2;
  return 0;
}

int cli_member_log_feed(const char *data, size_t len, const char *after, char newest[40], cli_prefixer *p,
                        cubit_buf *out) {
  char threshold[40];
  snprintf(threshold, sizeof(threshold), "%s", after ? after : "");
  while (len) {
    const char *nl = memchr(data, '\n', len);
    size_t n = nl ? (size_t)(nl - data) : len;
    char ts[40];
    size_t used = 0;
    int rc = 0;
    if (sortable_time(data, n, ts, &used) == 0) {
      /* Seen in an earlier answer: the member answers from the second of
       * sinceTime, so the start of each answer repeats. */
      if (strcmp(ts, threshold) > 0) {
        rc = cli_prefixer_feed(p, data + used, n - used, out);
        if (rc == 0) rc = cli_prefixer_feed(p, "\n", 1, out);
        if (strcmp(ts, newest) > 0) snprintf(newest, 40, "%s", ts);
      }
    } else if (n) {
      rc = cli_prefixer_feed(p, data, n, out) || cli_prefixer_feed(p, "\n", 1, out) ? CUBIT_ENOMEM : 0;
    }
    if (rc) return rc;
    data += nl ? n + 1 : n;
    len -= nl ? n + 1 : n;
  }
  return 0;
}
