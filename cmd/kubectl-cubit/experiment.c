/* An Experiment as its trials: one row per trial TrainingJob (labels
 * cubit.dev/experiment and cubit.dev/trial, annotation
 * cubit.dev/trial-parameters, api/labels.h) with its outcome — the record
 * the controller wrote on it (annotation cubit.dev/trial-metrics), else
 * what the Experiment's status.recentTrials says of it, else its phase —
 * and the best trial (status.bestTrial, else the best record). Every field
 * may be absent (a trial not finished, an Experiment not reconciled yet).
 * Pure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/labels.h"
#include "cli.h"
#include "util/alloc.h"
#include "util/json.h"

static const char *or_empty(const char *s) { return s ? s : ""; }

static const char *label(const json_t *o, const char *key) {
  return json_string_value(json_object_get(js_get(o, "metadata.labels"), key));
}

static long trial_of(const json_t *tj) {
  const char *n = label(tj, CUBIT_LABEL_TRIAL);
  return n ? atol(n) : 0;
}

static int by_trial(const void *a, const void *b) {
  long x = trial_of(*(json_t *const *)a), y = trial_of(*(json_t *const *)b);
  return (x > y) - (x < y);
}

/* The records the controller wrote on the trials, by TrainingJob name (a
 * new object). */
static json_t *trial_records(const json_t *tjs) {
  json_t *recs = json_object();
  size_t i;
  json_t *tj;
  json_array_foreach(tjs, i, tj) {
    const char *a = json_string_value(json_object_get(js_get(tj, "metadata.annotations"), CUBIT_ANNOTATION_TRIAL_METRICS));
    json_t *rec = a ? json_loads(a, 0, NULL) : NULL;
    if (json_is_object(rec) && js_name(tj)) json_object_set(recs, js_name(tj), rec);
    json_decref(rec);
  }
  return recs;
}

/* The record of trial n (named name): its own (recs), else the status'
 * status.recentTrials entry of that number or name; NULL when none. */
static const json_t *trial_record(const json_t *recs, const json_t *exp, long n, const char *name) {
  const json_t *own = name ? json_object_get(recs, name) : NULL;
  if (own) return own;
  size_t i;
  json_t *t;
  json_array_foreach(js_get(exp, "status.recentTrials"), i, t) {
    json_t *num = json_object_get(t, "number");
    if ((json_is_integer(num) && json_integer_value(num) == n) || (name && js_str(t, "name") &&
                                                                   strcmp(js_str(t, "name"), name) == 0))
      return t;
  }
  return NULL;
}

/* A record's value: "value", else its last observation's ([step, value]);
 * 0 when none. */
static int record_value(const json_t *rec, double *out) {
  json_t *v = json_object_get(rec, "value");
  if (!json_is_number(v)) {
    json_t *obs = json_object_get(rec, "observations");
    v = json_array_get(json_array_get(obs, json_array_size(obs) - 1), 1);
  }
  if (!json_is_number(v)) return 0;
  *out = json_number_value(v);
  return 1;
}

/* "lr=0.01 layers=4" from an object of parameters (copied into out). */
static void params_text(const json_t *params, char *out, size_t len) {
  size_t n = 0;
  out[0] = '\0';
  const char *k;
  json_t *v;
  json_object_foreach((json_t *)params, k, v) {
    char *s = json_is_string(v) ? xstrdup(json_string_value(v))
              : json_is_real(v)   ? xasprintf("%.10g", json_real_value(v))
                                  : json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
    int w = snprintf(out + n, len - n, "%s%s=%s", n ? " " : "", k, s ? s : "");
    free(s);
    if (w < 0 || (size_t)w >= len - n) break;
    n += (size_t)w;
  }
}

/* The parameters of a trial: its annotation (JSON), else the record's. */
static json_t *trial_params(const json_t *tj, const json_t *rec) {
  const char *a = json_string_value(json_object_get(js_get(tj, "metadata.annotations"), CUBIT_ANNOTATION_TRIAL_PARAMETERS));
  json_t *p = a ? json_loads(a, 0, NULL) : NULL;
  if (json_is_object(p)) return p;
  json_decref(p);
  p = json_object_get(rec, "parameters");
  return json_is_object(p) ? json_incref(p) : json_object();
}

/* What a trial's row says it is: the record's state (EarlyStopped says
 * more), else its TrainingJob's phase. */
static const char *trial_state(const json_t *tj, const json_t *rec) {
  if (js_str(rec, "state")) return js_str(rec, "state");
  return js_str(tj, "status.phase") ? js_str(tj, "status.phase") : "Pending";
}

/* Only a finished trial's value competes for the best (a running one's
 * is not final; a failed one has none that counts). */
static int finished_ok(const char *state) {
  return strcmp(state, "Succeeded") == 0 || strcmp(state, "EarlyStopped") == 0;
}

static int header(cubit_buf *out, const char *key, const char *value) {
  if (value == NULL || *value == '\0') return 0;
  return buf_appendf(out, "%-12s%s\n", key, value) ? CUBIT_ENOMEM : 0;
}

int cli_render_experiment(const json_t *exp, const json_t *tjs, int64_t now, int wide, cubit_buf *out) {
  const char *metric = js_str(exp, "spec.objective.metric");
  const char *type = js_str(exp, "spec.objective.type");
  int maximize = type && strcmp(type, "maximize") == 0;
  char objective[256] = "";
  if (metric) {
    json_t *goal = js_get(exp, "spec.objective.goal");
    int n = snprintf(objective, sizeof(objective), "%s %s", type ? type : "optimise", metric);
    if (json_is_number(goal) && n > 0 && (size_t)n < sizeof(objective))
      snprintf(objective + n, sizeof(objective) - (size_t)n, " (goal %g)", json_number_value(goal));
  }
  size_t n = json_array_size(tjs);
  json_t **sorted = xcalloc(n ? n : 1, sizeof(*sorted));
  for (size_t i = 0; i < n; i++) sorted[i] = json_array_get(tjs, i);
  qsort(sorted, n, sizeof(*sorted), by_trial);

  json_t *recs = trial_records(tjs);
  /* The best: the status' bestTrial, else the best value among the trials'
   * records by the objective's direction. */
  const json_t *best = js_get(exp, "status.bestTrial");
  long best_n = best ? (long)js_int(best, "number", 0) : 0;
  const char *best_name = best ? js_str(best, "name") : NULL;
  double best_v = 0;
  int have_best = best && record_value(best, &best_v);
  if (!json_is_object(best)) {
    for (size_t i = 0; i < n; i++) {
      const json_t *rec = trial_record(recs, exp, trial_of(sorted[i]), js_name(sorted[i]));
      double v;
      if (rec == NULL || !record_value(rec, &v) || !finished_ok(trial_state(sorted[i], rec))) continue;
      if (!have_best || (maximize ? v > best_v : v < best_v)) {
        have_best = 1;
        best_v = v;
        best_n = trial_of(sorted[i]);
        best_name = js_name(sorted[i]);
      }
    }
  }
  size_t running = 0, succeeded = 0, stopped = 0, failed = 0;
  for (size_t i = 0; i < n; i++) {
    const char *st = trial_state(sorted[i], trial_record(recs, exp, trial_of(sorted[i]), js_name(sorted[i])));
    if (strcmp(st, "Succeeded") == 0) succeeded++;
    else if (strcmp(st, "EarlyStopped") == 0) stopped++;
    else if (strcmp(st, "Failed") == 0) failed++;
    else running++;
  }
  char counts[160], best_line[700] = "", early[48] = "";
  if (stopped) snprintf(early, sizeof(early), ", %zu stopped early", stopped);
  snprintf(counts, sizeof(counts), "%zu (%zu going, %zu succeeded%s, %zu failed)", n, running, succeeded, early, failed);
  if (have_best) {
    char ptext[512] = "";
    json_t *bp = json_object_get(best, "parameters");
    if (!json_is_object(bp))
      for (size_t i = 0; i < n; i++)
        if (trial_of(sorted[i]) == best_n) {
          json_t *p = trial_params(sorted[i], trial_record(recs, exp, best_n, js_name(sorted[i])));
          params_text(p, ptext, sizeof(ptext));
          json_decref(p);
        }
    if (json_is_object(bp)) params_text(bp, ptext, sizeof(ptext));
    snprintf(best_line, sizeof(best_line), "trial %ld%s%s%s: %s=%g (%s)", best_n, best_name ? " (" : "",
             or_empty(best_name), best_name ? ")" : "", metric ? metric : "value", best_v, ptext);
  }
  const char *message = js_str(exp, "status.message");
  if (message == NULL) {
    size_t k;
    json_t *c;
    json_array_foreach(js_get(exp, "status.conditions"), k, c) {
      if (js_str(c, "type") && strcmp(js_str(c, "type"), "Ready") == 0) message = js_str(c, "message");
    }
  }
  int rc = 0;
  if ((rc = header(out, "Name:", js_name(exp))) || (rc = header(out, "Namespace:", js_namespace(exp))) ||
      (rc = header(out, "Phase:", js_str(exp, "status.phase") ? js_str(exp, "status.phase") : "Pending")) ||
      (rc = header(out, "Objective:", objective)) || (rc = header(out, "Algorithm:", js_str(exp, "spec.algorithm.name"))) ||
      (rc = header(out, "Trials:", counts)) || (rc = header(out, "Best:", best_line)) ||
      (rc = header(out, "Message:", message)))
    goto out;
  if (n == 0) {
    rc = buf_appends(out, "\n(no trials yet)\n") ? CUBIT_ENOMEM : 0;
    goto out;
  }
  if (buf_appends(out, "\n")) {
    rc = CUBIT_ENOMEM;
    goto out;
  }
  cli_table t;
  cli_table_init(&t, wide ? 9 : 7);
  const char *head[] = {"TRIAL", "STATE", "VALUE", "DURATION", "TRAININGJOB", wide ? "STARTED" : "PARAMETERS",
                        wide ? "FINISHED" : "", "PARAMETERS", ""};
  cli_table_add(&t, head);
  for (size_t i = 0; i < n; i++) {
    long num = trial_of(sorted[i]);
    const json_t *rec = trial_record(recs, exp, num, js_name(sorted[i]));
    char number[32], value[48] = "", dur[48] = "", ptext[512];
    snprintf(number, sizeof(number), "%ld", num);
    double v;
    if (rec && record_value(rec, &v)) snprintf(value, sizeof(value), "%g", v);
    int64_t s = js_time(sorted[i], "status.startTime"), f = js_time(sorted[i], "status.completionTime");
    if (s > 0) cli_format_duration((f > 0 ? f : now) - s, dur, sizeof(dur));
    json_t *p = trial_params(sorted[i], rec);
    params_text(p, ptext, sizeof(ptext));
    json_decref(p);
    const char *mark = have_best && num == best_n ? "(best)" : "";
    const char *row[] = {number, trial_state(sorted[i], rec), value, dur, or_empty(js_name(sorted[i])),
                         wide ? or_empty(js_str(sorted[i], "status.startTime")) : ptext,
                         wide ? or_empty(js_str(sorted[i], "status.completionTime")) : mark, ptext, mark};
    cli_table_add(&t, row);
  }
  rc = cli_table_write(&t, out);
  cli_table_free(&t);
out:
  json_decref(recs);
  free(sorted);
  return rc;
}
