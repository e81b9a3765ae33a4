/* The Experiment's plan, pure: the trials read back from their
 * TrainingJobs, their outcomes recorded, early stopping, the next trials,
 * the status. Steps:
 *   read_trials     each TrainingJob → a trial record for the algorithms
 *                   (and a record to write once its outcome is known)
 *   stop_trials     medianstop's decisions: record EarlyStopped, suspend
 *   suspend_trials  spec.suspend: the unfinished trials suspended or resumed
 *   decide          terminal or searching, how many trials to ask for
 *   create_trials   hpo_suggest's assignments as TrainingJobs (quota_wait:
 *                   the last one was refused by the project's quota)
 *   write_status    counts, best trial, recent trials, conditions, events */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/labels.h"
#include "api/trainingjob/trainingjob.h"
#include "controllers/experiment/experiment.h"
#include "runtime/conditions.h"
#include "runtime/status.h"
#include "util/alloc.h"
#include "util/json.h"

/* What the plan knows of one trial besides its hpo_trial. */
typedef struct trial_view {
  const exp_observed_trial *o;
  json_t *metrics;     /* the last value of each metric (owned), or NULL */
  char message[512];   /* why it failed, or how it was stopped */
  int record;          /* 1: its outcome is new: write the record */
  int retry;           /* its metrics could not be read yet */
} trial_view;

typedef struct plan_ctx {
  const exp_observed *in;
  const exp_spec *s;
  rt_plan *out;
  hpo_trials trials;   /* sorted by number */
  trial_view *views;   /* parallel to trials.items */
  size_t created;      /* trials created by this plan */
  int64_t created_up_to; /* the highest of their numbers */
  int retry;
  int lagging;         /* the cache does not show every trial created yet */
} plan_ctx;

/* ---------------------------------------------------------- read_trials */

static int parse_state(const char *s, hpo_trial_state *out) {
  static const hpo_trial_state all[] = {HPO_TRIAL_PENDING, HPO_TRIAL_RUNNING, HPO_TRIAL_SUCCEEDED, HPO_TRIAL_FAILED,
                                        HPO_TRIAL_EARLY_STOPPED};
  for (size_t i = 0; s && i < sizeof(all) / sizeof(all[0]); i++)
    if (strcmp(s, hpo_trial_state_name(all[i])) == 0) {
      *out = all[i];
      return 0;
    }
  return -1;
}

static void set_obs(hpo_trial *t, const hpo_observation *obs, size_t n) {
  free(t->obs);
  t->obs = n ? xcalloc(n, sizeof(*obs)) : NULL;
  if (n) memcpy(t->obs, obs, n * sizeof(*obs));
  t->nobs = n;
}

/* The record written before: state, value, metrics, observations. 0 when
 * it was read. */
static int read_record(const char *text, hpo_trial *t, trial_view *v) {
  json_t *r = json_loads(text, 0, NULL);
  hpo_trial_state st;
  if (!json_is_object(r) || parse_state(js_str(r, "state"), &st) || st == HPO_TRIAL_PENDING ||
      st == HPO_TRIAL_RUNNING) {
    json_decref(r);
    return -1;
  }
  t->state = st;
  const json_t *value = json_object_get(r, "value");
  if (json_is_number(value) && isfinite(json_number_value(value))) {
    t->has_value = 1;
    t->value = json_number_value(value);
  }
  const json_t *obs = json_object_get(r, "observations");
  size_t n = json_is_array(obs) ? json_array_size(obs) : 0;
  if (n > EXP_RECORD_OBSERVATIONS) n = EXP_RECORD_OBSERVATIONS;
  t->obs = n ? xcalloc(n, sizeof(*t->obs)) : NULL;
  for (size_t i = 0; i < n; i++) {
    const json_t *o = json_array_get(obs, i);
    const json_t *sv = json_array_get(o, 0), *vv = json_array_get(o, 1);
    if (!json_is_integer(sv) || !json_is_number(vv) || !isfinite(json_number_value(vv))) continue;
    t->obs[t->nobs].step = json_integer_value(sv);
    t->obs[t->nobs].value = json_number_value(vv);
    t->nobs++;
  }
  if ((st == HPO_TRIAL_SUCCEEDED || st == HPO_TRIAL_EARLY_STOPPED) && !t->has_value) {
    if (t->nobs == 0) {
      json_decref(r);
      return -1;
    }
    t->has_value = 1;
    t->value = t->obs[t->nobs - 1].value;
  }
  const json_t *m = json_object_get(r, "metrics");
  if (json_is_object(m)) v->metrics = json_incref((json_t *)m);
  snprintf(v->message, sizeof(v->message), "%s", js_str(r, "message") ? js_str(r, "message") : "");
  json_decref(r);
  return 0;
}

/* The last value of each metric read (the objective's by its strategy). */
static json_t *metrics_of(const exp_spec *s, const hpo_metrics *m) {
  json_t *out = json_object();
  for (size_t i = 0; i < m->n; i++) {
    const hpo_series *se = &m->series[i];
    if (se->n == 0) continue;
    double v = strcmp(se->name, s->objective.metric) == 0 ? hpo_series_value(s->objective.strategy, se->obs, se->n)
                                                          : se->obs[se->n - 1].value;
    json_object_set_new(out, se->name, json_real(v));
  }
  return out;
}

static const char *ready_message(const json_t *obj) {
  const json_t *c = rt_condition_get(json_object_get(obj, "status"), "Ready");
  const char *m = js_str(c, "message");
  return m && m[0] ? m : js_str(obj, "status.phase");
}

static const char *source_name(const exp_spec *s) {
  return s->metrics_source == EXP_METRICS_FILE ? "its termination message" : "its log";
}

/* A trial without a record, from its phase and the metrics just read. */
static void judge_trial(const exp_spec *s, const exp_observed_trial *o, hpo_trial *t, trial_view *v) {
  const char *phase = js_str(o->tj, "status.phase");
  const exp_trial_probe *p = &o->probe;
  const hpo_series *obj = p->read ? hpo_metrics_get(&p->metrics, s->objective.metric) : NULL;
  if (p->read) v->metrics = metrics_of(s, &p->metrics);
  int finished = phase && (strcmp(phase, "Succeeded") == 0 || strcmp(phase, "Failed") == 0);
  if (!finished) {
    t->state = phase && strcmp(phase, "Running") == 0 ? HPO_TRIAL_RUNNING : HPO_TRIAL_PENDING;
    if (obj) set_obs(t, obj->obs, obj->n);
    return;
  }
  if (!p->read && (p->retry || !p->wanted)) {
    /* Finished, but its metrics are still to be read: not judged yet. */
    t->state = HPO_TRIAL_RUNNING;
    v->retry = 1;
    return;
  }
  v->record = 1;
  if (obj) set_obs(t, obj->obs, obj->n);
  if (strcmp(phase, "Failed") == 0) {
    t->state = HPO_TRIAL_FAILED;
    snprintf(v->message, sizeof(v->message), "the TrainingJob failed: %s", ready_message(o->tj));
    return;
  }
  if (obj == NULL) {
    t->state = HPO_TRIAL_FAILED;
    if (!p->read)
      snprintf(v->message, sizeof(v->message), "its metrics could not be read: %s", p->error);
    else
      snprintf(v->message, sizeof(v->message), "the trial reported no value of the objective metric %s in %s (%s "
               "format)", s->objective.metric, source_name(s), hpo_metrics_format_name(s->metrics_format));
    return;
  }
  t->state = HPO_TRIAL_SUCCEEDED;
  t->has_value = 1;
  t->value = hpo_series_value(s->objective.strategy, obj->obs, obj->n);
}

static int64_t trial_number(const json_t *tj) {
  const char *n = json_string_value(json_object_get(js_get(tj, "metadata.labels"), CUBIT_LABEL_TRIAL));
  if (n == NULL || *n == '\0') return 0;
  char *end;
  long long v = strtoll(n, &end, 10);
  return *end == '\0' && v > 0 ? (int64_t)v : 0;
}

static int by_number(const void *a, const void *b) {
  int64_t x = trial_number(((const exp_observed_trial *const *)a)[0]->tj);
  int64_t y = trial_number(((const exp_observed_trial *const *)b)[0]->tj);
  if (x != y) return x < y ? -1 : 1;
  return strcmp(js_name(((const exp_observed_trial *const *)a)[0]->tj),
                js_name(((const exp_observed_trial *const *)b)[0]->tj));
}

static void read_trials(plan_ctx *c) {
  const exp_observed *in = c->in;
  const exp_spec *s = c->s;
  const exp_observed_trial **order = xcalloc(in->ntrials + 1, sizeof(*order));
  size_t n = 0;
  for (size_t i = 0; i < in->ntrials; i++)
    if (trial_number(in->trials[i].tj) > 0) order[n++] = &in->trials[i];
  qsort(order, n, sizeof(*order), by_number);
  c->trials.items = xcalloc(n + 1, sizeof(hpo_trial));
  c->views = xcalloc(n + 1, sizeof(trial_view));
  for (size_t i = 0; i < n; i++) {
    const exp_observed_trial *o = order[i];
    int64_t number = trial_number(o->tj);
    if (c->trials.n && c->trials.items[c->trials.n - 1].number == number) continue; /* a twin: the first counts */
    hpo_trial *t = &c->trials.items[c->trials.n];
    trial_view *v = &c->views[c->trials.n];
    c->trials.n++;
    v->o = o;
    t->name = xstrdup(js_name(o->tj));
    t->number = number;
    t->x = xcalloc(s->space.n + 1, sizeof(double));
    const json_t *ann = js_get(o->tj, "metadata.annotations");
    const char *params = json_string_value(json_object_get(ann, CUBIT_ANNOTATION_TRIAL_PARAMETERS));
    json_t *pj = params ? json_loads(params, 0, NULL) : NULL;
    char why[300] = "";
    int bad = pj == NULL || hpo_assignment_parse(&s->space, pj, CUBIT_ANNOTATION_TRIAL_PARAMETERS, t->x, why,
                                                 sizeof(why));
    json_decref(pj);
    if (bad) {
      /* Not a point of the space (edited, or the space changed): it
       * keeps its number and counts as failed. */
      for (size_t k = 0; k < s->space.n; k++) t->x[k] = hpo_param_snap(&s->space.params[k], s->space.params[k].min);
      t->state = HPO_TRIAL_FAILED;
      snprintf(v->message, sizeof(v->message), "%s", why[0] ? why : "no " CUBIT_ANNOTATION_TRIAL_PARAMETERS " annotation");
      continue;
    }
    const char *record = json_string_value(json_object_get(ann, CUBIT_ANNOTATION_TRIAL_METRICS));
    if (record && read_record(record, t, v) == 0) continue;
    judge_trial(s, o, t, v);
    c->retry |= v->retry;
  }
  free(order);
}

/* ---------------------------------------------------------- records */

static json_t *record_json(const hpo_trial *t, const trial_view *v) {
  json_t *r = json_pack("{s:s}", "state", hpo_trial_state_name(t->state));
  if (t->has_value) json_object_set_new(r, "value", json_real(t->value));
  if (v->metrics && json_object_size(v->metrics)) json_object_set(r, "metrics", v->metrics);
  if (t->nobs) {
    json_t *obs = json_array();
    size_t n = t->nobs < EXP_RECORD_OBSERVATIONS ? t->nobs : EXP_RECORD_OBSERVATIONS;
    for (size_t i = 0; i < n; i++)
      json_array_append_new(obs, json_pack("[I, f]", (json_int_t)t->obs[i].step, t->obs[i].value));
    json_object_set_new(r, "observations", obs);
  }
  if (v->message[0]) json_object_set_new(r, "message", json_string(v->message));
  return r;
}

/* Writes the trial's record (and, to stop it, spec.suspend) on its
 * TrainingJob, if it is still the one read. */
static void plan_record(plan_ctx *c, const hpo_trial *t, const trial_view *v, int suspend) {
  json_t *r = record_json(t, v);
  char *text = json_dumps(r, JSON_COMPACT | JSON_REAL_PRECISION(17));
  json_decref(r);
  json_t *ops = json_pack("[{s:s, s:s, s:s}, {s:s, s:s, s:s}]", "op", "test", "path", "/metadata/uid", "value",
                          js_uid(v->o->tj), "op", "add", "path", "/metadata/annotations/cubit.dev~1trial-metrics",
                          "value", text);
  free(text);
  if (suspend) json_array_append_new(ops, json_pack("{s:s, s:s, s:b}", "op", "add", "path", "/spec/suspend", "value", 1));
  rt_plan_patch(c->out, &trainingjob_resource, v->o->tj, ops);
}

static void record_outcomes(plan_ctx *c) {
  for (size_t i = 0; i < c->trials.n; i++) {
    const hpo_trial *t = &c->trials.items[i];
    trial_view *v = &c->views[i];
    if (!v->record) continue;
    plan_record(c, t, v, 0);
    if (t->state == HPO_TRIAL_FAILED)
      rt_plan_event(c->out, "Warning", "TrialFailed", "trial %s failed: %s", t->name, v->message);
    else
      rt_plan_event(c->out, "Normal", "TrialSucceeded", "trial %s: %s = %.6g", t->name, c->s->objective.metric,
                    t->value);
  }
}

/* ---------------------------------------------------------- stop_trials */

static void stop_trials(plan_ctx *c) {
  if (c->s->early_stopping.kind == HPO_ES_NONE) return;
  hpo_stops stops;
  hpo_early_stop(&c->s->objective, &c->s->early_stopping, &c->trials, &stops);
  for (size_t k = 0; k < stops.n; k++) {
    hpo_trial *t = &c->trials.items[stops.items[k].trial];
    trial_view *v = &c->views[stops.items[k].trial];
    if (t->nobs == 0) continue;
    t->state = HPO_TRIAL_EARLY_STOPPED;
    t->has_value = 1;
    t->value = hpo_series_value(c->s->objective.strategy, t->obs, t->nobs);
    snprintf(v->message, sizeof(v->message), "%s", stops.items[k].reason);
    plan_record(c, t, v, 1);
    rt_plan_event(c->out, "Normal", "TrialEarlyStopped", "trial %s stopped early: %s", t->name, v->message);
  }
  hpo_stops_free(&stops);
}

/* ---------------------------------------------------------- suspend */

/* spec.suspend: the unfinished trials are suspended (their pods go, their
 * quota is freed) and resumed with the Experiment. A trial stopped early
 * has its record and stays suspended. */
static void suspend_trials(plan_ctx *c) {
  for (size_t i = 0; i < c->trials.n; i++) {
    const hpo_trial *t = &c->trials.items[i];
    const json_t *tj = c->views[i].o->tj;
    const char *phase = js_str(tj, "status.phase");
    if (hpo_trial_finished(t) || c->views[i].retry || (phase && strcmp(phase, "Succeeded") == 0) ||
        (phase && strcmp(phase, "Failed") == 0))
      continue;
    if (js_bool(tj, "spec.suspend", 0) == c->s->suspend) continue;
    json_t *ops = json_pack("[{s:s, s:s, s:s}, {s:s, s:s, s:b}]", "op", "test", "path", "/metadata/uid", "value",
                            js_uid(tj), "op", "add", "path", "/spec/suspend", "value", c->s->suspend);
    rt_plan_patch(c->out, &trainingjob_resource, tj, ops);
  }
}

/* ---------------------------------------------------------- decide */

/* total: the trials that exist; created: the trials ever created (the
 * highest number, also of trials deleted since: status.trials.created
 * remembers it), which maxTrials limits and after which new trials are
 * numbered, so a deleted trial is neither redone nor its number reused. */
typedef struct counts {
  int pending, running, succeeded, failed, early_stopped, total;
  int64_t created;
} counts;

static counts count_trials(const plan_ctx *c) {
  const hpo_trials *t = &c->trials;
  counts n = {0};
  for (size_t i = 0; i < t->n; i++) {
    switch (t->items[i].state) {
      case HPO_TRIAL_PENDING: n.pending++; break;
      case HPO_TRIAL_RUNNING: n.running++; break;
      case HPO_TRIAL_SUCCEEDED: n.succeeded++; break;
      case HPO_TRIAL_FAILED: n.failed++; break;
      case HPO_TRIAL_EARLY_STOPPED: n.early_stopped++; break;
    }
  }
  n.total = (int)t->n;
  n.created = t->n ? t->items[t->n - 1].number : 0;
  json_int_t said = js_int(c->in->experiment, "status.trials.created", 0);
  if (said > n.created) n.created = said;
  if (c->in->created_up_to > n.created) n.created = c->in->created_up_to;
  return n;
}

/* The best trial's value: of the trials that exist, or status.bestTrial's
 * when that one is better or the only one (its trial may have been deleted
 * since; the Experiment's result stays). Returns 0 when there is none. */
static int best_value(const plan_ctx *c, double *value, const char **name) {
  const hpo_trial *best = hpo_best_trial(&c->s->objective, &c->trials);
  const json_t *prev = js_get(c->in->experiment, "status.bestTrial");
  const json_t *pv = json_object_get(prev, "value");
  if (json_is_number(pv) && (best == NULL || hpo_better(&c->s->objective, json_number_value(pv), best->value))) {
    *value = json_number_value(pv);
    *name = js_str(prev, "name") ? js_str(prev, "name") : "?";
    return 1;
  }
  if (best == NULL) return 0;
  *value = best->value;
  *name = best->name;
  return 1;
}

typedef struct verdict {
  const char *phase;
  rt_state state;
  const char *reason;
  char message[1024];
  int want; /* trials to ask for */
  int warn; /* a Warning event when the reason changes */
} verdict;

static void searching_message(const plan_ctx *c, const counts *n, char *out, size_t len) {
  double value;
  const char *name;
  int w = snprintf(out, len, "%d running, %d pending, %d succeeded, %d failed, %d stopped early of at most %d trials",
                   n->running, n->pending, n->succeeded, n->failed, n->early_stopped, c->s->max_trials);
  if (best_value(c, &value, &name) && w > 0 && (size_t)w < len)
    snprintf(out + w, len - (size_t)w, "; best %s %.6g (trial %s)", c->s->objective.metric, value, name);
}

/* When the last creation of a trial was refused by the project's quota
 * (the executor wrote ApplyFailed with the webhook's words, or an earlier
 * plan QuotaExceeded), the trials about to be asked for again wait for
 * quota: say so, before trying (the status goes first, so a refusal again
 * leaves it). */
static void quota_wait(plan_ctx *c, verdict *v) {
  const json_t *ready = rt_condition_get(json_object_get(c->in->experiment, "status"), "Ready");
  const char *reason = js_str(ready, "reason"), *said = js_str(ready, "message");
  if (!(reason && said && (strcmp(reason, "ApplyFailed") == 0 || strcmp(reason, "QuotaExceeded") == 0) &&
        strstr(said, "quota exceeded") != NULL))
    return;
  v->phase = "Queued";
  v->reason = "QuotaExceeded";
  /* No event of its own: the plan's events go out only when every action
   * did, so it would come once the quota let the trial in; each refusal is
   * already the executor's ApplyFailed Warning with the webhook's words. */
  if (strcmp(reason, "QuotaExceeded") == 0)
    snprintf(v->message, sizeof(v->message), "%s", said); /* already in these words */
  else
    snprintf(v->message, sizeof(v->message), "waiting for the project's quota to start the next trial: %s", said);
  c->out->status_first = 1;
}

static void decide(const plan_ctx *c, const counts *n, verdict *v) {
  const exp_spec *s = c->s;
  int active = n->pending + n->running;
  memset(v, 0, sizeof(*v));
  v->phase = "Running";
  v->state = RT_STATE_PROGRESSING;
  v->reason = "Searching";
  if (n->failed > s->max_failed_trials) {
    v->phase = "Failed";
    v->state = RT_STATE_FAILED;
    v->reason = "TooManyFailedTrials";
    snprintf(v->message, sizeof(v->message), "%d trials failed, more than maxFailedTrials (%d)", n->failed,
             s->max_failed_trials);
    return;
  }
  double best;
  const char *best_name;
  if (s->objective.has_goal && best_value(c, &best, &best_name) && !hpo_better(&s->objective, s->objective.goal, best)) {
    v->phase = "Succeeded";
    v->state = RT_STATE_SUCCEEDED;
    v->reason = "GoalReached";
    snprintf(v->message, sizeof(v->message), "trial %s reached the goal: %s %.6g (goal %.6g)", best_name,
             s->objective.metric, best, s->objective.goal);
    return;
  }
  if (n->created >= s->max_trials && active == 0) {
    v->phase = "Succeeded";
    v->state = RT_STATE_SUCCEEDED;
    v->reason = "MaxTrialsReached";
    searching_message(c, n, v->message, sizeof(v->message));
    return;
  }
  if (s->suspend) {
    v->phase = "Suspended";
    v->state = RT_STATE_SUSPENDED;
    v->reason = "Suspended";
    snprintf(v->message, sizeof(v->message), "suspended (spec.suspend): %d unfinished trials suspended; ", active);
    size_t used = strlen(v->message);
    searching_message(c, n, v->message + used, sizeof(v->message) - used);
    return;
  }
  int64_t room = s->parallel_trials - active, left = s->max_trials - n->created;
  v->want = (int)(room < left ? room : left);
  if (v->want < 0) v->want = 0;
  searching_message(c, n, v->message, sizeof(v->message));
}

/* ---------------------------------------------------------- create_trials */

static void fail_verdict(verdict *v, const char *reason, const char *msg) {
  v->phase = "Failed";
  v->state = RT_STATE_FAILED;
  v->reason = reason;
  v->want = 0;
  snprintf(v->message, sizeof(v->message), "%s", msg);
}

static void create_trials(plan_ctx *c, const counts *n, verdict *v) {
  const exp_spec *s = c->s;
  if (v->want <= 0) return;
  int64_t highest = c->trials.n ? c->trials.items[c->trials.n - 1].number : 0;
  if (highest < c->in->created_up_to) {
    c->lagging = 1; /* decide on every trial, or not at all */
    return;
  }
  if (s->source == EXP_TEMPLATE_REF && c->in->tmpl == NULL) {
    v->phase = "Pending";
    v->reason = "TemplateNotFound";
    v->warn = 1;
    snprintf(v->message, sizeof(v->message), "%s %s does not exist; trials start once it does",
             s->ref_kind == PL_TEMPLATE_CLUSTER ? "ClusterJobTemplate" : "JobTemplate", s->ref_name);
    return;
  }
  hpo_suggestions sug;
  char err[512];
  if (hpo_suggest(&s->space, &s->objective, &s->algorithm, &c->trials, (size_t)v->want, &sug, err, sizeof(err))) {
    fail_verdict(v, "SuggestionFailed", err);
    return;
  }
  for (size_t k = 0; k < sug.n; k++) {
    json_t *tj = NULL;
    /* After every trial ever created, also those deleted since. */
    sug.numbers[k] = n->created + 1 + (int64_t)k;
    if (exp_trial_desired(c->in->experiment, s, c->in->tmpl, sug.numbers[k], sug.x + k * s->space.n, &tj, err,
                          sizeof(err))) {
      fail_verdict(v, "InvalidTrialTemplate", err);
      hpo_suggestions_free(&sug);
      return;
    }
    const char *params = json_string_value(
        json_object_get(js_get(tj, "metadata.annotations"), CUBIT_ANNOTATION_TRIAL_PARAMETERS));
    rt_plan_event(c->out, "Normal", "TrialCreated", "trial %s: %s", js_name(tj), params ? params : "");
    rt_plan_apply(c->out, &trainingjob_resource, tj);
    c->created++;
    c->created_up_to = sug.numbers[k];
  }
  int active = n->pending + n->running;
  if (sug.n == 0 && sug.exhausted && active == 0) {
    v->phase = "Succeeded";
    v->state = RT_STATE_SUCCEEDED;
    v->reason = "SearchExhausted";
    snprintf(v->message, sizeof(v->message), "%s", sug.reason[0] ? sug.reason : "every point of the space was tried");
  }
  hpo_suggestions_free(&sug);
  if (c->created) quota_wait(c, v);
}

/* ---------------------------------------------------------- write_status */

static json_t *trial_summary(const plan_ctx *c, size_t i, int full) {
  const hpo_trial *t = &c->trials.items[i];
  const trial_view *v = &c->views[i];
  json_t *o = json_pack("{s:s, s:I, s:o}", "name", t->name, "number", (json_int_t)t->number, "parameters",
                        hpo_assignment_json(&c->s->space, t->x));
  if (!full) json_object_set_new(o, "state", json_string(hpo_trial_state_name(t->state)));
  if (t->has_value) json_object_set_new(o, "value", json_real(t->value));
  if (full && v->metrics) json_object_set(o, "metrics", v->metrics);
  if (!full && v->message[0]) json_object_set_new(o, "message", json_string(v->message));
  return o;
}

static void write_status(plan_ctx *c, const counts *n, const verdict *v) {
  const json_t *exp = c->in->experiment;
  const json_t *prev = json_object_get(exp, "status");
  json_t *status = rt_status_from(exp);
  /* Only trials known to exist (seen, or created by an earlier plan that
   * went through): this plan's may yet be refused, by the quota say. */
  int64_t created = n->created;
  json_object_set_new(status, "trials",
                      json_pack("{s:i, s:i, s:i, s:i, s:i, s:i, s:I}", "total", n->total, "pending", n->pending,
                                "running", n->running, "succeeded", n->succeeded, "failed", n->failed, "earlyStopped",
                                n->early_stopped, "created", (json_int_t)created));
  /* The best of the trials that exist, unless the one recorded before is
   * better (its trial was deleted since: the result stays). */
  const hpo_trial *best = hpo_best_trial(&c->s->objective, &c->trials);
  const json_t *kept = json_object_get(json_object_get(prev, "bestTrial"), "value");
  int keep = json_is_number(kept) && (best == NULL || hpo_better(&c->s->objective, json_number_value(kept), best->value));
  if (best && !keep) json_object_set_new(status, "bestTrial", trial_summary(c, (size_t)(best - c->trials.items), 1));
  else if (!keep) json_object_del(status, "bestTrial");
  json_t *recent = json_array();
  size_t from = c->trials.n > EXP_RECENT_TRIALS ? c->trials.n - EXP_RECENT_TRIALS : 0;
  for (size_t i = c->trials.n; i-- > from;) json_array_append_new(recent, trial_summary(c, i, 0));
  json_object_set_new(status, "recentTrials", recent);
  const char *prev_phase = js_str(prev, "phase");
  const char *prev_reason = js_str(rt_condition_get(prev, "Ready"), "reason");
  int terminal = v->state == RT_STATE_SUCCEEDED || v->state == RT_STATE_FAILED;
  if (!js_get(status, "startTime")) js_set_time(status, "startTime", c->in->now);
  if (terminal && !(prev_phase && strcmp(prev_phase, v->phase) == 0 && js_get(status, "completionTime")))
    js_set_time(status, "completionTime", c->in->now);
  if (!terminal) json_object_del(status, "completionTime");
  rt_status_set_state(status, v->phase, v->state, v->reason, v->message, js_int(exp, "metadata.generation", 0),
                      c->in->now);
  int changed = !(prev_phase && strcmp(prev_phase, v->phase) == 0);
  if ((terminal || v->state == RT_STATE_SUSPENDED) && changed)
    rt_plan_event(c->out, v->state == RT_STATE_FAILED ? "Warning" : "Normal", v->phase, "%s: %s", v->reason,
                  v->message);
  else if (changed && prev_phase && strcmp(prev_phase, "Suspended") == 0)
    rt_plan_event(c->out, "Normal", "Resumed", "the search goes on: %s", v->message);
  else if (v->warn && !(prev_reason && strcmp(prev_reason, v->reason) == 0))
    rt_plan_event(c->out, "Warning", v->reason, "%s", v->message);
  rt_plan_set_status(c->out, status);
}

/* ---------------------------------------------------------- the plan */

static void invalid_spec(const exp_observed *in, rt_plan *out) {
  json_t *status = rt_status_from(in->experiment);
  const json_t *prev = json_object_get(in->experiment, "status");
  const char *msg = in->spec_error && in->spec_error[0] ? in->spec_error : "invalid spec";
  const char *prev_msg = js_str(rt_condition_get(prev, "Ready"), "message");
  if (!(prev_msg && strcmp(prev_msg, msg) == 0)) rt_plan_event(out, "Warning", "InvalidSpec", "%s", msg);
  rt_status_set_state(status, "Failed", RT_STATE_FAILED, "InvalidSpec", msg,
                      js_int(in->experiment, "metadata.generation", 0), in->now);
  rt_plan_set_status(out, status);
}

void exp_plan(const exp_observed *in, rt_plan *out, int64_t *created_up_to) {
  *created_up_to = 0;
  if (in->spec == NULL) {
    invalid_spec(in, out);
    return;
  }
  plan_ctx c = {.in = in, .s = in->spec, .out = out};
  read_trials(&c);
  record_outcomes(&c);
  stop_trials(&c);
  suspend_trials(&c);
  counts n = count_trials(&c);
  verdict v;
  decide(&c, &n, &v);
  create_trials(&c, &n, &v);
  write_status(&c, &n, &v);
  int polling = n.running > 0 && in->spec->early_stopping.kind != HPO_ES_NONE &&
                in->spec->metrics_source == EXP_METRICS_STDOUT;
  *created_up_to = c.created_up_to;
  if (c.lagging) rt_plan_requeue_after(out, EXP_CACHE_WAIT_MS);
  if (c.retry || strcmp(v.reason, "TemplateNotFound") == 0) rt_plan_requeue_after(out, EXP_RETRY_MS);
  else if (polling) rt_plan_requeue_after(out, EXP_POLL_MS);
  for (size_t i = 0; i < c.trials.n; i++) json_decref(c.views[i].metrics);
  free(c.views);
  hpo_trials_free(&c.trials);
}
