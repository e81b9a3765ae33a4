/* Trees of a PipelineRun's tasks and a TrainingJob's roles and pods, from
 * the objects' status and Cubit's labels only. Pure: objects and the clock
 * in, text out. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/labels.h"
#include "cli.h"
#include "util/alloc.h"
#include "util/json.h"

#define APPEND(...)                                  \
  do {                                               \
    if (buf_appendf(out, __VA_ARGS__)) return CUBIT_ENOMEM; \
  } while (0)

static const char *or_empty(const char *s) { return s ? s : ""; }

/* How long something ran: start to finish, or to now while it runs. */
static void span(const json_t *o, const char *start, const char *finish, int64_t now, char *d, size_t len) {
  int64_t s = js_time(o, start), f = js_time(o, finish);
  d[0] = '\0';
  if (s <= 0) return;
  cli_format_duration((f > 0 ? f : now) - s, d, len);
}

static int header(cubit_buf *out, const char *key, const char *value) {
  if (value == NULL || *value == '\0') return 0;
  return buf_appendf(out, "%-13s%s\n", key, value) ? CUBIT_ENOMEM : 0;
}

/* The tree's left part of a row: the "│  " and "├─ " of each level, then
 * the name; returns its width in terminal columns (the box characters are
 * one column each but three bytes). */
typedef struct cell {
  char text[512];
  int cols;
} cell;

static void tree_cell(cell *c, const char *stems, int depth, int last, const char *name) {
  int n = 0;
  c->text[0] = '\0';
  for (int i = 0; i < depth; i++) {
    const char *piece = i + 1 < depth ? (stems[i] ? "│  " : "   ") : (last ? "└─ " : "├─ ");
    n += snprintf(c->text + n, sizeof(c->text) - (size_t)n, "%s", piece);
    if (n >= (int)sizeof(c->text)) n = (int)sizeof(c->text) - 1;
  }
  snprintf(c->text + n, sizeof(c->text) - (size_t)n, "%s", name);
  c->cols = depth * 3 + (int)strlen(name);
}

static int pad_cell(cubit_buf *out, const cell *c, int width) {
  if (buf_appends(out, c->text)) return CUBIT_ENOMEM;
  for (int i = c->cols; i < width; i++)
    if (buf_appends(out, " ")) return CUBIT_ENOMEM;
  return 0;
}

/* Drops the spaces that padding leaves at the ends of lines from 'from' on
 * (a task without a message). */
static void trim_lines(cubit_buf *out, size_t from) {
  size_t w = from;
  for (size_t r = from; r < out->len; r++) {
    if (out->data[r] == '\n')
      while (w > from && out->data[w - 1] == ' ') w--;
    out->data[w++] = out->data[r];
  }
  out->len = w;
  if (out->data) out->data[w] = '\0';
}

/* ---------------------------------------------------------- PipelineRun */

typedef struct task_row {
  const char *name;
  int parent;     /* index of the first dependency, -1 for a root */
  int depth;
  int last;       /* last child of its parent */
  char label[160];
  char stems[32]; /* for each level above: does a line continue there */
} task_row;

typedef struct run_tree {
  task_row *rows;
  size_t n;
  int *order;     /* rows in drawing order (depth first) */
  size_t norder;
} run_tree;

static int task_index(const json_t *tasks, const char *name) {
  size_t i;
  json_t *t;
  json_array_foreach(tasks, i, t) if (js_str(t, "name") && strcmp(js_str(t, "name"), name) == 0) return (int)i;
  return -1;
}

static void visit(run_tree *tr, int at, int depth, const char *stems) {
  task_row *r = &tr->rows[at];
  r->depth = depth;
  memcpy(r->stems, stems, sizeof(r->stems));
  tr->order[tr->norder++] = at;
  int last_child = -1;
  for (size_t i = 0; i < tr->n; i++)
    if (tr->rows[i].parent == at) last_child = (int)i;
  char below[32];
  memcpy(below, stems, sizeof(below));
  if (depth > 0 && depth - 1 < (int)sizeof(below)) below[depth - 1] = (char)!r->last;
  for (size_t i = 0; i < tr->n; i++) {
    if (tr->rows[i].parent != at) continue;
    tr->rows[i].last = (int)i == last_child;
    visit(tr, (int)i, depth + 1 < 31 ? depth + 1 : 31, below);
  }
}

/* Each task hangs under its first dependency (the pipeline's order decides
 * siblings); further dependencies are named on its row. */
static void build_tree(const json_t *tasks, run_tree *tr) {
  tr->n = json_array_size(tasks);
  tr->rows = xcalloc(tr->n ? tr->n : 1, sizeof(*tr->rows));
  tr->order = xcalloc(tr->n ? tr->n : 1, sizeof(*tr->order));
  tr->norder = 0;
  size_t i;
  json_t *t;
  json_array_foreach(tasks, i, t) {
    task_row *r = &tr->rows[i];
    r->name = or_empty(js_str(t, "name"));
    r->parent = -1;
    json_t *deps = json_object_get(t, "dependsOn");
    if (json_array_size(deps)) {
      int p = task_index(tasks, or_empty(json_string_value(json_array_get(deps, 0))));
      if (p >= 0 && p < (int)i) r->parent = p; /* a DAG in order: parents come first */
    }
    int n = snprintf(r->label, sizeof(r->label), "%s", r->name);
    for (size_t k = 1; k < json_array_size(deps) && n < (int)sizeof(r->label); k++)
      n += snprintf(r->label + n, sizeof(r->label) - (size_t)n, "%s%s", k == 1 ? " (+" : ",",
                    or_empty(json_string_value(json_array_get(deps, k))));
    if (json_array_size(deps) > 1 && n < (int)sizeof(r->label))
      snprintf(r->label + n, sizeof(r->label) - (size_t)n, ")");
  }
  /* A task whose first dependency comes later in the list is drawn as a
   * root rather than lost. */
  char none[32] = {0};
  int last_root = -1;
  for (i = 0; i < tr->n; i++)
    if (tr->rows[i].parent < 0) last_root = (int)i;
  for (i = 0; i < tr->n; i++)
    if (tr->rows[i].parent < 0) {
      tr->rows[i].last = (int)i == last_root;
      visit(tr, (int)i, 0, none);
    }
}

static int json_cmp_attempt(const void *a, const void *b) {
  const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
  json_t *lx = js_get(x, "metadata.labels"), *ly = js_get(y, "metadata.labels");
  const char *tx = or_empty(json_string_value(json_object_get(lx, CUBIT_LABEL_TASK)));
  const char *ty = or_empty(json_string_value(json_object_get(ly, CUBIT_LABEL_TASK)));
  int c = strcmp(tx, ty);
  if (c) return c;
  long nx = atol(or_empty(json_string_value(json_object_get(lx, CUBIT_LABEL_ATTEMPT))));
  long ny = atol(or_empty(json_string_value(json_object_get(ly, CUBIT_LABEL_ATTEMPT))));
  return (nx > ny) - (nx < ny);
}

static const char *label_of(const json_t *o, const char *key) {
  return json_string_value(json_object_get(js_get(o, "metadata.labels"), key));
}

/* Columns of an earlier attempt's cell: the task's stems, "│  · #", the
 * number. */
static int attempt_cols(int depth, const json_t *tj) {
  return depth * 3 + 6 + (int)strlen(or_empty(label_of(tj, CUBIT_LABEL_ATTEMPT)));
}

/* The message a TrainingJob's status gives: its own, else its Ready
 * condition's. */
static const char *tj_message(const json_t *tj) {
  if (js_str(tj, "status.message")) return js_str(tj, "status.message");
  size_t i;
  json_t *c;
  json_array_foreach(js_get(tj, "status.conditions"), i, c) if (js_str(c, "type") &&
                                                                   strcmp(js_str(c, "type"), "Ready") == 0) return js_str(c, "message");
  return NULL;
}

int cli_run_finished(const json_t *run, int *exit_code) {
  const char *phase = or_empty(js_str(run, "status.phase"));
  if (strcmp(phase, "Succeeded") == 0) {
    *exit_code = CLI_EXIT_OK;
    return 0;
  }
  if (strcmp(phase, "Failed") == 0) {
    *exit_code = CLI_EXIT_FAILED;
    return 0;
  }
  return 1;
}

static int render_run(const json_t *run, const json_t *tjs, int64_t now, int wide, cubit_buf *out);

int cli_render_run(const json_t *run, const json_t *tjs, int64_t now, int wide, cubit_buf *out) {
  size_t from = out->len;
  int rc = render_run(run, tjs, now, wide, out);
  trim_lines(out, from);
  return rc;
}

/* -o wide's columns: when the task (or attempt) started and finished. */
static int wide_times(cubit_buf *out, int wide, const char *started, const char *finished) {
  if (!wide) return 0;
  return buf_appendf(out, "%-20s %-20s ", started ? started : "", finished ? finished : "") ? CUBIT_ENOMEM : 0;
}

static int render_run(const json_t *run, const json_t *tjs, int64_t now, int wide, cubit_buf *out) {
  char d[48];
  int rc = 0;
  span(run, "status.startTime", "status.completionTime", now, d, sizeof(d));
  if ((rc = header(out, "Name:", js_name(run))) || (rc = header(out, "Namespace:", js_namespace(run))) ||
      (rc = header(out, "Pipeline:", js_str(run, "spec.pipelineRef.name"))) ||
      (rc = header(out, "Phase:", js_str(run, "status.phase") ? js_str(run, "status.phase") : "Pending")) ||
      (rc = header(out, "Progress:", js_str(run, "status.progress"))) ||
      (rc = header(out, "Started:", js_str(run, "status.startTime"))) ||
      (rc = header(out, "Finished:", js_str(run, "status.completionTime"))) || (rc = header(out, "Duration:", d)) ||
      (rc = header(out, "Message:", js_str(run, "status.message"))))
    return rc;
  json_t *params = js_get(run, "status.params");
  if (!json_object_size(params)) params = js_get(run, "spec.params");
  if (json_object_size(params)) {
    APPEND("%-13s", "Parameters:");
    const char *k;
    json_t *v;
    int first = 1;
    json_object_foreach(params, k, v) {
      char *s = json_is_string(v) ? xstrdup(json_string_value(v)) : json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
      rc = buf_appendf(out, "%s%s=%s", first ? "" : " ", k, s ? s : "");
      free(s);
      if (rc) return CUBIT_ENOMEM;
      first = 0;
    }
    APPEND("\n");
  }
  json_t *tasks = js_get(run, "status.pipelineSpec.tasks");
  if (!json_array_size(tasks)) {
    APPEND("\n(no tasks yet: the run has not started)\n");
    return 0;
  }
  run_tree tr;
  build_tree(tasks, &tr);
  /* Earlier attempts, from the run's TrainingJobs. */
  size_t ntj = json_array_size(tjs);
  json_t **sorted = xcalloc(ntj ? ntj : 1, sizeof(*sorted));
  for (size_t i = 0; i < ntj; i++) sorted[i] = json_array_get(tjs, i);
  qsort(sorted, ntj, sizeof(*sorted), json_cmp_attempt);

  int width = 4; /* "TASK" */
  for (size_t i = 0; i < tr.n; i++) {
    cell c;
    tree_cell(&c, tr.rows[i].stems, tr.rows[i].depth, tr.rows[i].last, tr.rows[i].label);
    if (c.cols > width) width = c.cols;
    json_t *node = json_object_get(js_get(run, "status.nodes"), tr.rows[i].name);
    if (js_int(node, "attempts", 0) > 1) {
      for (size_t k = 0; k < ntj; k++) {
        const char *t = label_of(sorted[k], CUBIT_LABEL_TASK);
        if (t == NULL || strcmp(t, tr.rows[i].name)) continue;
        if (attempt_cols(tr.rows[i].depth, sorted[k]) > width) width = attempt_cols(tr.rows[i].depth, sorted[k]);
      }
    }
  }
  if ((rc = buf_appendf(out, "\n%-*s  %-10s %-8s %-9s %-24s ", width, "TASK", "PHASE", "ATTEMPT", "DURATION",
                        "TRAININGJOB")) ||
      (rc = wide_times(out, wide, "STARTED", "FINISHED")) || (rc = buf_appends(out, "MESSAGE\n")))
    goto freed;
  for (size_t o = 0; o < tr.norder; o++) {
    task_row *r = &tr.rows[tr.order[o]];
    json_t *node = json_object_get(js_get(run, "status.nodes"), r->name);
    cell c;
    tree_cell(&c, r->stems, r->depth, r->last, r->label);
    span(node, "startTime", "finishTime", now, d, sizeof(d));
    char attempt[16] = "";
    if (js_int(node, "attempts", 0) > 0) snprintf(attempt, sizeof(attempt), "%lld", (long long)js_int(node, "attempts", 0));
    const char *msg = js_str(node, "message");
    char retry[80] = "";
    if (js_str(node, "retryAt")) snprintf(retry, sizeof(retry), "retry at %s", js_str(node, "retryAt"));
    if ((rc = pad_cell(out, &c, width)) ||
        (rc = buf_appendf(out, "  %-10s %-8s %-9s %-24s ", js_str(node, "phase") ? js_str(node, "phase") : "Pending",
                          attempt, d, or_empty(js_str(node, "trainingJob")))) ||
        (rc = wide_times(out, wide, js_str(node, "startTime"), js_str(node, "finishTime"))) ||
        (rc = buf_appendf(out, "%s%s%s\n", or_empty(msg), msg && *retry ? "; " : "", retry)))
      goto freed;
    /* The stem under this row, for the lines that belong to it. */
    char under[400]; /* 31 levels of 3 columns, 3 bytes each */
    int n = 0;
    under[0] = '\0';
    for (int i = 0; i < r->depth && n < (int)sizeof(under); i++)
      n += snprintf(under + n, sizeof(under) - (size_t)n, "%s",
                    i + 1 < r->depth ? (r->stems[i] ? "│  " : "   ") : (r->last ? "   " : "│  "));
    int has_children = 0;
    for (size_t k = 0; k < tr.n; k++)
      if (tr.rows[k].parent == tr.order[o]) has_children = 1;
    const char *stem = has_children ? "│  " : "   ";
    if (js_int(node, "attempts", 0) > 1) {
      for (size_t k = 0; k < ntj; k++) {
        const char *t = label_of(sorted[k], CUBIT_LABEL_TASK);
        const char *tjname = js_name(sorted[k]);
        if (t == NULL || strcmp(t, r->name) || (tjname && js_str(node, "trainingJob") &&
                                                 strcmp(tjname, js_str(node, "trainingJob")) == 0))
          continue;
        char label[64], ad[48];
        snprintf(label, sizeof(label), "%s· #%s", stem, or_empty(label_of(sorted[k], CUBIT_LABEL_ATTEMPT)));
        span(sorted[k], "status.startTime", "status.completionTime", now, ad, sizeof(ad));
        cell ac;
        snprintf(ac.text, sizeof(ac.text), "%s%s", under, label);
        ac.cols = attempt_cols(r->depth, sorted[k]);
        if ((rc = pad_cell(out, &ac, width)) ||
            (rc = buf_appendf(out, "  %-10s %-8s %-9s %-24s ", or_empty(js_str(sorted[k], "status.phase")),
                              or_empty(label_of(sorted[k], CUBIT_LABEL_ATTEMPT)), ad, or_empty(tjname))) ||
            (rc = wide_times(out, wide, js_str(sorted[k], "status.startTime"), js_str(sorted[k], "status.completionTime"))) ||
            (rc = buf_appendf(out, "%s\n", or_empty(tj_message(sorted[k])))))
          goto freed;
      }
    }
    json_t *outputs = json_object_get(node, "outputs");
    if (json_object_size(outputs)) {
      if ((rc = buf_appendf(out, "%s%s  outputs:", under, stem))) goto freed;
      const char *k;
      json_t *v;
      json_object_foreach(outputs, k, v) {
        char *s = json_is_string(v) ? xstrdup(json_string_value(v)) : json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        rc = buf_appendf(out, " %s=%s", k, s ? s : "");
        free(s);
        if (rc) goto freed;
      }
      if ((rc = buf_appendf(out, "\n"))) goto freed;
    }
  }
freed:
  free(sorted);
  free(tr.rows);
  free(tr.order);
  return rc ? CUBIT_ENOMEM : 0;
}

/* ---------------------------------------------------------- TrainingJob */

static int cmp_pod_name(const void *a, const void *b) {
  return strcmp(or_empty(js_name(*(json_t *const *)a)), or_empty(js_name(*(json_t *const *)b)));
}

/* A pod's phase in kubectl's words where it says more: the waiting or
 * terminated reason of its first container that has one. */
static const char *pod_state(const json_t *pod) {
  size_t i;
  json_t *cs;
  json_array_foreach(js_get(pod, "status.containerStatuses"), i, cs) {
    if (js_str(cs, "state.waiting.reason")) return js_str(cs, "state.waiting.reason");
    if (js_str(cs, "state.terminated.reason") && strcmp(or_empty(js_str(pod, "status.phase")), "Running") == 0)
      return js_str(cs, "state.terminated.reason");
  }
  return js_str(pod, "status.phase") ? js_str(pod, "status.phase") : "Pending";
}

static long pod_restarts(const json_t *pod) {
  long n = 0;
  size_t i;
  json_t *cs;
  json_array_foreach(js_get(pod, "status.containerStatuses"), i, cs) n += (long)js_int(cs, "restartCount", 0);
  return n;
}

static int render_trainingjob(const json_t *tj, const json_t *pods, int64_t now, int wide, cubit_buf *out);

int cli_render_trainingjob(const json_t *tj, const json_t *pods, int64_t now, int wide, cubit_buf *out) {
  size_t from = out->len;
  int rc = render_trainingjob(tj, pods, now, wide, out);
  trim_lines(out, from);
  return rc;
}

static int render_trainingjob(const json_t *tj, const json_t *pods, int64_t now, int wide, cubit_buf *out) {
  char d[48], restarts[16];
  int rc = 0;
  span(tj, "status.startTime", "status.completionTime", now, d, sizeof(d));
  snprintf(restarts, sizeof(restarts), "%lld", (long long)js_int(tj, "status.restarts", 0));
  if ((rc = header(out, "Name:", js_name(tj))) || (rc = header(out, "Namespace:", js_namespace(tj))) ||
      (rc = header(out, "Framework:", js_str(tj, "spec.framework"))) ||
      (rc = header(out, "Phase:", js_str(tj, "status.phase") ? js_str(tj, "status.phase") : "Pending")) ||
      (rc = header(out, "Completions:", js_str(tj, "status.completions"))) ||
      (rc = header(out, "Restarts:", restarts)) || (rc = header(out, "Started:", js_str(tj, "status.startTime"))) ||
      (rc = header(out, "Duration:", d)) || (rc = header(out, "Message:", tj_message(tj))))
    return rc;
  /* Roles: the spec's, in its order, then any the status counts that the
   * spec no longer has. */
  json_t *names = json_array();
  const char *k;
  json_t *v;
  json_object_foreach(js_get(tj, "spec.roles"), k, v) json_array_append_new(names, json_string(k));
  json_object_foreach(js_get(tj, "status.roles"), k, v) if (!json_object_get(js_get(tj, "spec.roles"), k))
      json_array_append_new(names, json_string(k));
  size_t npods = json_array_size(pods);
  json_t **sorted = xcalloc(npods ? npods : 1, sizeof(*sorted));
  for (size_t i = 0; i < npods; i++) sorted[i] = json_array_get(pods, i);
  qsort(sorted, npods, sizeof(*sorted), cmp_pod_name);
  int width = 8; /* "ROLE/POD" */
  for (size_t i = 0; i < npods; i++)
    if ((int)strlen(or_empty(js_name(sorted[i]))) + 3 > width) width = (int)strlen(or_empty(js_name(sorted[i]))) + 3;
  size_t r;
  json_t *role;
  if ((rc = buf_appendf(out, "\n%-*s  %-18s %-9s %-16s %s%s\n", width, "ROLE/POD", "PHASE", "RESTARTS", "NODE",
                        wide ? "AGE       " : "AGE", wide ? "IP               STARTED" : "")))
    goto out;
  json_array_foreach(names, r, role) {
    const char *rn = json_string_value(role);
    json_t *counts = json_object_get(js_get(tj, "status.roles"), rn);
    char line[160];
    snprintf(line, sizeof(line), "%lld running, %lld pending, %lld succeeded, %lld failed",
             (long long)js_int(counts, "running", 0), (long long)js_int(counts, "pending", 0),
             (long long)js_int(counts, "succeeded", 0), (long long)js_int(counts, "failed", 0));
    if ((rc = buf_appendf(out, "%-*s  %s\n", width, rn, line))) goto out;
    size_t last = npods;
    for (size_t i = 0; i < npods; i++) {
      const char *pr = label_of(sorted[i], CUBIT_LABEL_ROLE);
      if (pr && strcmp(pr, rn) == 0) last = i;
    }
    for (size_t i = 0; i < npods; i++) {
      const char *pr = label_of(sorted[i], CUBIT_LABEL_ROLE);
      if (pr == NULL || strcmp(pr, rn)) continue;
      cell c;
      tree_cell(&c, "", 1, i == last, or_empty(js_name(sorted[i])));
      char age[48] = "";
      int64_t created = js_time(sorted[i], "metadata.creationTimestamp");
      if (created > 0) cli_format_duration(now - created, age, sizeof(age));
      if ((rc = pad_cell(out, &c, width)) ||
          (rc = buf_appendf(out, "  %-18s %-9ld %-16s ", pod_state(sorted[i]), pod_restarts(sorted[i]),
                            or_empty(js_str(sorted[i], "spec.nodeName")))) ||
          (rc = wide ? buf_appendf(out, "%-10s%-17s%s\n", age, or_empty(js_str(sorted[i], "status.podIP")),
                                   or_empty(js_str(sorted[i], "status.startTime")))
                     : buf_appendf(out, "%s\n", age)))
        goto out;
    }
  }
out:
  free(sorted);
  json_decref(names);
  return rc ? CUBIT_ENOMEM : 0;
}
