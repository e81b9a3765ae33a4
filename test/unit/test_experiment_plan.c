/* Tests of the Experiment's plan (controllers/experiment/plan.c): observed
 * trials in → records, stops, trials to create, status (phase, state,
 * reason, counts, best, recent), events and requeue out, for every state;
 * and the same input giving the same plan (a restarted manager). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/labels.h"
#include "controllers/experiment/experiment.h"
#include "runtime/conditions.h"
#include "runtime/status.h"
#include "testutil.h"
#include "util/json.h"

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))
#define J(text) testutil_json(text)
#define NOW 1800000000

/* An Experiment over x in [0, 1] with a random search, its trials reporting
 * through the termination message; 'extra' is merged into the spec. */
static json_t *experiment(const char *extra) {
  json_t *e = J("{'apiVersion':'cubit.dev/v1alpha1','kind':'Experiment',"
                "'metadata':{'name':'e','namespace':'ns','uid':'u-e','generation':1},"
                "'spec':{'objective':{'metric':'loss','type':'minimize'},"
                "'parameters':[{'name':'x','type':'double','min':0,'max':1}],"
                "'algorithm':{'name':'random','seed':1},'parallelTrials':2,'maxTrials':4,'maxFailedTrials':1,"
                "'metricsCollector':{'source':'file'},"
                "'trialTemplate':{'trainingJob':{'framework':'batch','image':'img',"
                "'args':['--x','{{trial.parameters.x}}','--name','{{trial.name}}-{{trial.number}}'],"
                "'roles':{'main':{'replicas':1}}}}}}");
  if (extra) {
    json_t *x = J(extra);
    json_object_update(json_object_get(e, "spec"), x);
    json_decref(x);
  }
  return e;
}

/* Trial 'number' with assignment x, the TrainingJob in 'phase' (NULL = no
 * status yet) and its record (NULL = none). */
static json_t *trial(int number, double x, const char *phase, const char *record) {
  char name[32], uid[32], num[16], params[64];
  snprintf(name, sizeof(name), "e-%d", number);
  snprintf(uid, sizeof(uid), "u-%d", number);
  snprintf(num, sizeof(num), "%d", number);
  snprintf(params, sizeof(params), "{\"x\":%.17g}", x);
  json_t *t = json_pack("{s:s, s:s, s:{s:s, s:s, s:s, s:{s:s, s:s}, s:{s:s}}, s:{s:s}}", "apiVersion",
                        "cubit.dev/v1alpha1", "kind", "TrainingJob", "metadata", "name", name, "namespace", "ns", "uid",
                        uid, "labels", "cubit.dev/experiment", "e", "cubit.dev/trial", num, "annotations",
                        "cubit.dev/trial-parameters", params, "spec", "framework", "batch");
  if (phase) json_object_set_new(t, "status", json_pack("{s:s}", "phase", phase));
  if (record) json_object_set_new(js_get(t, "metadata.annotations"), CUBIT_ANNOTATION_TRIAL_METRICS, json_string(record));
  return t;
}

/* What gather read: the output in 'out' (NULL = nothing was read). */
static void probe(exp_observed_trial *o, const char *out, int retry) {
  memset(&o->probe, 0, sizeof(o->probe));
  o->probe.wanted = 1;
  o->probe.retry = retry;
  if (out == NULL) {
    snprintf(o->probe.error, sizeof(o->probe.error), "no pod of the trial is left to read its metrics from");
    return;
  }
  const char *names[] = {"loss"};
  hpo_metrics_parse(out, strlen(out), HPO_METRICS_TEXT, 1, names, 1, &o->probe.metrics);
  o->probe.read = 1;
  o->probe.complete = 1;
}

typedef struct fixture {
  json_t *exp;
  json_t *tmpl;
  exp_observed_trial trials[32];
  size_t n;
  int64_t known;          /* created_up_to handed in */
  rt_plan plan;
  int64_t created_up_to;  /* what the plan says it created */
  char err[600];
} fixture;

static void add(fixture *f, json_t *tj) {
  memset(&f->trials[f->n], 0, sizeof(f->trials[f->n]));
  f->trials[f->n++].tj = tj;
}

static void plan(fixture *f) {
  exp_spec spec;
  exp_observed in = {f->exp, NULL, f->err, f->tmpl, f->trials, f->n, f->known, NOW};
  if (exp_spec_parse(f->exp, &spec, f->err, sizeof(f->err)) == 0) in.spec = &spec;
  rt_plan_init(&f->plan);
  exp_plan(&in, &f->plan, &f->created_up_to);
  exp_spec_free(&spec);
}

static void done(fixture *f) {
  rt_plan_free(&f->plan);
  for (size_t i = 0; i < f->n; i++) {
    hpo_metrics_free(&f->trials[i].probe.metrics);
    json_decref((json_t *)f->trials[i].tj);
  }
  json_decref(f->exp);
  json_decref(f->tmpl);
}

static size_t count(const rt_plan *p, rt_action_kind k) {
  size_t n = 0;
  for (size_t i = 0; i < p->nactions; i++) n += p->actions[i].kind == k;
  return n;
}

static const json_t *applied(const rt_plan *p, const char *name) {
  for (size_t i = 0; i < p->nactions; i++)
    if (p->actions[i].kind == RT_ACT_APPLY && strcmp(js_name(p->actions[i].object), name) == 0)
      return p->actions[i].object;
  return NULL;
}

/* The patch of a trial: its record (parsed) and whether it suspends. */
static json_t *patched_record(const rt_plan *p, const char *name, int *suspends) {
  for (size_t i = 0; i < p->nactions; i++) {
    const rt_action *a = &p->actions[i];
    if (a->kind != RT_ACT_PATCH || strcmp(js_name(a->object), name) != 0) continue;
    *suspends = 0;
    json_t *rec = NULL;
    size_t k;
    json_t *op;
    json_array_foreach(a->patch, k, op) {
      const char *path = js_str(op, "path");
      if (strcmp(path, "/metadata/annotations/cubit.dev~1trial-metrics") == 0)
        rec = json_loads(js_str(op, "value"), 0, NULL);
      if (strcmp(path, "/spec/suspend") == 0) *suspends = 1;
    }
    return rec;
  }
  return NULL;
}

static int has_event(const rt_plan *p, const char *reason) {
  int n = 0;
  for (size_t i = 0; i < p->nevents; i++) n += strcmp(p->events[i].reason, reason) == 0;
  return n;
}

static const char *reason(const rt_plan *p) {
  return js_str(rt_condition_get(p->status, "Ready"), "reason");
}

static const char *message(const rt_plan *p) {
  return js_str(rt_condition_get(p->status, "Ready"), "message");
}

/* ---- a new Experiment: parallelTrials trials, named and labelled ---------------------- */

START_TEST(first_trials) {
  fixture f = {.exp = experiment(NULL)};
  plan(&f);
  ck_assert_uint_eq(count(&f.plan, RT_ACT_APPLY), 2);
  const json_t *t1 = applied(&f.plan, "e-1"), *t2 = applied(&f.plan, "e-2");
  ck_assert_ptr_nonnull(t1);
  ck_assert_ptr_nonnull(t2);
  ck_assert_str_eq(js_str(t1, "kind"), "TrainingJob");
  ck_assert_str_eq(js_str(t1, "metadata.namespace"), "ns");
  ck_assert_str_eq(json_string_value(json_object_get(js_get(t1, "metadata.labels"), "cubit.dev/experiment")), "e");
  ck_assert_str_eq(json_string_value(json_object_get(js_get(t2, "metadata.labels"), "cubit.dev/trial")), "2");
  ck_assert_str_eq(json_string_value(json_object_get(js_get(t1, "spec.podMetadata.labels"), "cubit.dev/trial")), "1");
  ck_assert_str_eq(js_str(json_array_get(js_get(t1, "metadata.ownerReferences"), 0), "uid"), "u-e");
  /* The parameters annotation and the substituted spec agree. */
  json_t *params = json_loads(
      json_string_value(json_object_get(js_get(t1, "metadata.annotations"), "cubit.dev/trial-parameters")), 0, NULL);
  ck_assert_ptr_nonnull(params);
  double x = json_number_value(json_object_get(params, "x"));
  ck_assert(x >= 0 && x <= 1);
  char want[64];
  snprintf(want, sizeof(want), "%.17g", x);
  ck_assert_double_eq(strtod(json_string_value(json_array_get(js_get(t1, "spec.args"), 1)), NULL), x);
  ck_assert_str_eq(json_string_value(json_array_get(js_get(t1, "spec.args"), 3)), "e-1-1");
  json_decref(params);
  ck_assert_str_eq(js_str(f.plan.status, "phase"), "Running");
  ck_assert_int_eq(rt_status_state(f.plan.status), RT_STATE_PROGRESSING);
  ck_assert_str_eq(reason(&f.plan), "Searching");
  ck_assert_int_eq(js_int(f.plan.status, "trials.total", -1), 0);
  ck_assert_ptr_null(js_get(f.plan.status, "bestTrial"));
  ck_assert_int_eq(has_event(&f.plan, "TrialCreated"), 2);
  ck_assert_int_eq(f.plan.requeue_after_ms, 0);
  ck_assert_int_eq(f.created_up_to, 2);
  done(&f);
}
END_TEST

/* The cache trails the trials this manager created: no suggestion is made
 * on fewer trials (it could differ and rewrite a running trial); outcomes
 * are still recorded, and the plan looks again soon. */
START_TEST(cache_trails) {
  fixture f = {.exp = experiment(NULL), .known = 3};
  add(&f, trial(1, 0.3, "Succeeded", NULL));
  probe(&f.trials[0], "loss=0.3\n", 0);
  add(&f, trial(2, 0.6, "Running", NULL));
  plan(&f);
  ck_assert_uint_eq(count(&f.plan, RT_ACT_APPLY), 0);
  ck_assert_uint_eq(count(&f.plan, RT_ACT_PATCH), 1);
  ck_assert_int_eq(f.plan.requeue_after_ms, EXP_CACHE_WAIT_MS);
  ck_assert_int_eq(f.created_up_to, 0);
  done(&f);
  /* Once it shows them, the search goes on after the highest. */
  fixture g = {.exp = experiment(NULL), .known = 3};
  add(&g, trial(1, 0.3, "Succeeded", "{\"state\":\"Succeeded\",\"value\":0.3}"));
  add(&g, trial(2, 0.6, "Succeeded", "{\"state\":\"Succeeded\",\"value\":0.6}"));
  add(&g, trial(3, 0.9, "Running", NULL));
  plan(&g);
  ck_assert_uint_eq(count(&g.plan, RT_ACT_APPLY), 1);
  ck_assert_ptr_nonnull(applied(&g.plan, "e-4"));
  ck_assert_int_eq(g.created_up_to, 4);
  done(&g);
}
END_TEST

/* ---- the same input twice: the same plan (a restarted manager) ----------------------- */

static char *dump_plan(const rt_plan *p) {
  json_t *all = json_array();
  for (size_t i = 0; i < p->nactions; i++)
    json_array_append_new(all, json_pack("{s:i, s:O*, s:O*}", "kind", (int)p->actions[i].kind, "object",
                                         p->actions[i].object, "patch", p->actions[i].patch));
  json_t *st = json_deep_copy(p->status);
  json_object_del(st, "conditions");
  json_array_append_new(all, st);
  for (size_t i = 0; i < p->nevents; i++)
    json_array_append_new(all, json_pack("[s, s]", p->events[i].reason, p->events[i].message));
  char *s = json_dumps(all, JSON_SORT_KEYS | JSON_COMPACT);
  json_decref(all);
  return s;
}

START_TEST(restart_idempotent) {
  for (int round = 0; round < 2; round++) {
    fixture a = {.exp = experiment(round ? "{'algorithm':{'name':'tpe','seed':3,'settings':{'nStartup':1}}}" : NULL)};
    fixture b = {.exp = experiment(round ? "{'algorithm':{'name':'tpe','seed':3,'settings':{'nStartup':1}}}" : NULL)};
    add(&a, trial(1, 0.25, "Succeeded", "{\"state\":\"Succeeded\",\"value\":0.25}"));
    add(&a, trial(2, 0.5, "Running", NULL));
    add(&b, trial(2, 0.5, "Running", NULL)); /* another order in the cache */
    add(&b, trial(1, 0.25, "Succeeded", "{\"state\":\"Succeeded\",\"value\":0.25}"));
    plan(&a);
    plan(&b);
    char *da = dump_plan(&a.plan), *db = dump_plan(&b.plan);
    ck_assert_str_eq(da, db);
    ck_assert_uint_eq(count(&a.plan, RT_ACT_APPLY), 1);
    ck_assert_ptr_nonnull(applied(&a.plan, "e-3")); /* after the highest number, never a twin */
    free(da);
    free(db);
    done(&a);
    done(&b);
  }
}
END_TEST

/* ---- outcomes: read from the probe, recorded once ------------------------------------- */

START_TEST(trial_succeeds) {
  fixture f = {.exp = experiment(NULL)};
  add(&f, trial(1, 0.3, "Succeeded", NULL));
  probe(&f.trials[0], "loss=0.5\nloss=0.3\n", 0);
  add(&f, trial(2, 0.7, "Running", NULL));
  plan(&f);
  int suspends = -1;
  json_t *rec = patched_record(&f.plan, "e-1", &suspends);
  ck_assert_ptr_nonnull(rec);
  ck_assert_int_eq(suspends, 0);
  ck_assert_str_eq(js_str(rec, "state"), "Succeeded");
  ck_assert_double_eq(json_number_value(json_object_get(rec, "value")), 0.3);
  ck_assert_uint_eq(json_array_size(json_object_get(rec, "observations")), 2);
  ck_assert_double_eq(json_number_value(js_get(rec, "metrics.loss")), 0.3);
  json_decref(rec);
  /* One running, one slot: e-3. */
  ck_assert_uint_eq(count(&f.plan, RT_ACT_APPLY), 1);
  ck_assert_ptr_nonnull(applied(&f.plan, "e-3"));
  ck_assert_str_eq(js_str(f.plan.status, "bestTrial.name"), "e-1");
  ck_assert_int_eq(js_int(f.plan.status, "bestTrial.number", 0), 1);
  ck_assert_double_eq(json_number_value(js_get(f.plan.status, "bestTrial.value")), 0.3);
  ck_assert_double_eq(json_number_value(js_get(f.plan.status, "bestTrial.parameters.x")), 0.3);
  ck_assert_int_eq(js_int(f.plan.status, "trials.succeeded", 0), 1);
  ck_assert_int_eq(js_int(f.plan.status, "trials.running", 0), 1);
  ck_assert_int_eq(has_event(&f.plan, "TrialSucceeded"), 1);
  ck_assert_str_eq(js_str(json_array_get(js_get(f.plan.status, "recentTrials"), 0), "name"), "e-2");
  done(&f);
}
END_TEST

typedef struct {
  const char *name;
  const char *phase;
  const char *out;     /* probe output, NULL = not read */
  int retry;
  const char *state;   /* recorded state, NULL = nothing recorded */
  const char *message; /* part of the record's message */
} outcome_case;

static const outcome_case outcomes[] = {
    {"no objective reported", "Succeeded", "accuracy=0.9\n", 0, "Failed",
     "reported no value of the objective metric loss in its termination message"},
    {"no pod left", "Succeeded", NULL, 0, "Failed", "no pod of the trial is left"},
    {"read failed, will retry", "Succeeded", NULL, 1, NULL, NULL},
    {"job failed", "Failed", "loss=0.1\n", 0, "Failed", "the TrainingJob failed"},
    {"running: nothing to record", "Running", "loss=0.1\n", 0, NULL, NULL},
    {"pending", NULL, NULL, 0, NULL, NULL},
};

START_TEST(trial_outcomes) {
  const outcome_case *c = &outcomes[_i];
  fixture f = {.exp = experiment("{'maxFailedTrials':5}")};
  add(&f, trial(1, 0.3, c->phase, NULL));
  if (c->phase && strcmp(c->phase, "Running") != 0) probe(&f.trials[0], c->out, c->retry);
  else if (c->out) probe(&f.trials[0], c->out, 0);
  plan(&f);
  int suspends;
  json_t *rec = patched_record(&f.plan, "e-1", &suspends);
  if (c->state == NULL) {
    ck_assert_msg(rec == NULL, "%s: recorded", c->name);
  } else {
    ck_assert_msg(rec != NULL, "%s: not recorded", c->name);
    ck_assert_str_eq(js_str(rec, "state"), c->state);
    ck_assert_msg(strstr(js_str(rec, "message"), c->message), "%s: %s", c->name, js_str(rec, "message"));
    ck_assert_int_eq(has_event(&f.plan, "TrialFailed"), 1);
    ck_assert_int_eq(js_int(f.plan.status, "trials.failed", 0), 1);
    ck_assert_str_eq(js_str(json_array_get(js_get(f.plan.status, "recentTrials"), 0), "state"), "Failed");
  }
  ck_assert_int_eq(f.plan.requeue_after_ms, c->retry ? EXP_RETRY_MS : 0);
  json_decref(rec);
  done(&f);
}
END_TEST

/* A record once written is what counts: nothing is read or written again. */
START_TEST(records_count) {
  fixture f = {.exp = experiment(NULL)};
  add(&f, trial(1, 0.3, NULL, "{\"state\":\"Succeeded\",\"value\":0.3,\"metrics\":{\"loss\":0.3,\"acc\":0.8}}"));
  add(&f, trial(2, 0.6, "Succeeded", "{\"state\":\"EarlyStopped\",\"observations\":[[1,0.9],[2,0.8]]}"));
  add(&f, trial(3, 0.9, "Failed", "{\"state\":\"Failed\",\"message\":\"boom\"}"));
  plan(&f);
  ck_assert_uint_eq(count(&f.plan, RT_ACT_PATCH), 0);
  ck_assert_int_eq(js_int(f.plan.status, "trials.succeeded", 0), 1);
  ck_assert_int_eq(js_int(f.plan.status, "trials.earlyStopped", 0), 1);
  ck_assert_int_eq(js_int(f.plan.status, "trials.failed", 0), 1);
  ck_assert_double_eq(json_number_value(js_get(f.plan.status, "bestTrial.metrics.acc")), 0.8);
  /* 3 trials of 4, none active: the last one. */
  ck_assert_uint_eq(count(&f.plan, RT_ACT_APPLY), 1);
  ck_assert_ptr_nonnull(applied(&f.plan, "e-4"));
  const json_t *r = json_array_get(js_get(f.plan.status, "recentTrials"), 0);
  ck_assert_str_eq(js_str(r, "message"), "boom");
  done(&f);
}
END_TEST

/* ---- the end of the search ------------------------------------------------------------- */

typedef struct {
  const char *name;
  const char *extra;     /* spec */
  const char *prev;      /* previous status, or NULL */
  double values[4];      /* recorded Succeeded trials (NAN = Failed), up to 4 */
  int ntrials;
  int running;           /* trials after them that run */
  const char *phase;
  rt_state state;
  const char *reason;
  size_t creates;
  const char *event;     /* an event the plan emits, or NULL */
  int no_phase_event;    /* the phase event is not emitted again */
} end_case;

static const end_case ends[] = {
    {"max trials", NULL, NULL, {0.5, 0.4, 0.3, 0.6}, 4, 0, "Succeeded", RT_STATE_SUCCEEDED, "MaxTrialsReached", 0,
     "Succeeded", 0},
    {"max trials, told before", NULL, "{'phase':'Succeeded'}", {0.5, 0.4, 0.3, 0.6}, 4, 0, "Succeeded",
     RT_STATE_SUCCEEDED, "MaxTrialsReached", 0, NULL, 1},
    {"max trials, one still running", NULL, NULL, {0.5, 0.4, 0.3}, 3, 1, "Running", RT_STATE_PROGRESSING, "Searching",
     0, NULL, 1},
    {"goal reached", "{'objective':{'metric':'loss','type':'minimize','goal':0.35}}", NULL, {0.5, 0.3}, 2, 0,
     "Succeeded", RT_STATE_SUCCEEDED, "GoalReached", 0, "Succeeded", 0},
    {"goal reached while one runs", "{'objective':{'metric':'loss','type':'maximize','goal':0.5}}", NULL, {0.5}, 1, 1,
     "Succeeded", RT_STATE_SUCCEEDED, "GoalReached", 0, "Succeeded", 0},
    {"goal not reached", "{'objective':{'metric':'loss','type':'minimize','goal':0.1}}", NULL, {0.5, 0.3}, 2, 0,
     "Running", RT_STATE_PROGRESSING, "Searching", 2, "TrialCreated", 0},
    {"too many failed", NULL, NULL, {NAN, NAN}, 2, 0, "Failed", RT_STATE_FAILED, "TooManyFailedTrials", 0, "Failed", 0},
    {"failed within the limit", NULL, NULL, {NAN, 0.2}, 2, 0, "Running", RT_STATE_PROGRESSING, "Searching", 2, NULL,
     1},
    {"maxTrials raised on a finished one", "{'maxTrials':6}", "{'phase':'Succeeded'}", {0.5, 0.4, 0.3, 0.6}, 4, 0,
     "Running", RT_STATE_PROGRESSING, "Searching", 2, "TrialCreated", 1},
    {"grid exhausted", "{'algorithm':{'name':'grid'},'maxTrials':10,"
                       "'parameters':[{'name':'x','type':'double','min':0,'max':1,'step':0.5}]}",
     NULL, {0.5, 0.4, 0.3}, 3, 0, "Succeeded", RT_STATE_SUCCEEDED, "SearchExhausted", 0, "Succeeded", 0},
};

START_TEST(search_end) {
  const end_case *c = &ends[_i];
  fixture f = {.exp = experiment(c->extra)};
  if (c->prev) json_object_set_new(f.exp, "status", J(c->prev));
  for (int i = 0; i < c->ntrials; i++) {
    char rec[128];
    if (isnan(c->values[i])) snprintf(rec, sizeof(rec), "{\"state\":\"Failed\",\"message\":\"exit 1\"}");
    else snprintf(rec, sizeof(rec), "{\"state\":\"Succeeded\",\"value\":%g}", c->values[i]);
    add(&f, trial(i + 1, i * 0.5 > 1 ? 1 : i * 0.5, "Succeeded", rec));
  }
  for (int i = 0; i < c->running; i++) add(&f, trial(c->ntrials + i + 1, 0.75, "Running", NULL));
  plan(&f);
  ck_assert_msg(strcmp(js_str(f.plan.status, "phase"), c->phase) == 0, "%s: phase %s", c->name,
                js_str(f.plan.status, "phase"));
  ck_assert_int_eq(rt_status_state(f.plan.status), c->state);
  ck_assert_msg(strcmp(reason(&f.plan), c->reason) == 0, "%s: reason %s (%s)", c->name, reason(&f.plan),
                message(&f.plan));
  ck_assert_msg(count(&f.plan, RT_ACT_APPLY) == c->creates, "%s: %zu created", c->name,
                count(&f.plan, RT_ACT_APPLY));
  if (c->event) ck_assert_msg(has_event(&f.plan, c->event) > 0, "%s: no event %s", c->name, c->event);
  if (c->no_phase_event) ck_assert_int_eq(has_event(&f.plan, c->phase), 0);
  int terminal = c->state == RT_STATE_SUCCEEDED || c->state == RT_STATE_FAILED;
  ck_assert_int_eq(js_get(f.plan.status, "completionTime") != NULL, terminal);
  done(&f);
}
END_TEST

/* ---- trials deleted: neither redone nor renumbered, the result kept -------------------- */

static json_t *scored(int number, double x, double value) {
  char rec[96];
  snprintf(rec, sizeof(rec), "{\"state\":\"Succeeded\",\"value\":%g}", value);
  return trial(number, x, "Succeeded", rec);
}

START_TEST(trials_deleted) {
  /* A finished Experiment whose best trial (1) was deleted: nothing new,
   * its result stays. */
  fixture f = {.exp = experiment(NULL)};
  json_object_set_new(f.exp, "status", J("{'phase':'Succeeded','trials':{'total':4,'created':4},"
                                         "'bestTrial':{'name':'e-1','number':1,'parameters':{'x':0.1},'value':0.1}}"));
  add(&f, scored(2, 0.2, 0.5));
  add(&f, scored(3, 0.3, 0.4));
  add(&f, scored(4, 0.4, 0.3));
  plan(&f);
  ck_assert_str_eq(js_str(f.plan.status, "phase"), "Succeeded");
  ck_assert_str_eq(reason(&f.plan), "MaxTrialsReached");
  ck_assert_int_eq(count(&f.plan, RT_ACT_APPLY), 0);
  ck_assert_str_eq(js_str(f.plan.status, "bestTrial.name"), "e-1");
  ck_assert_int_eq(js_int(f.plan.status, "trials.created", 0), 4);
  ck_assert_int_eq(js_int(f.plan.status, "trials.total", 0), 3);
  done(&f);
  /* The trial that reached the goal was deleted: still GoalReached. */
  f = (fixture){.exp = experiment("{'objective':{'metric':'loss','type':'minimize','goal':0.2},'maxTrials':10}")};
  json_object_set_new(f.exp, "status", J("{'phase':'Succeeded','trials':{'created':3},"
                                         "'bestTrial':{'name':'e-3','number':3,'parameters':{'x':0.1},'value':0.1}}"));
  add(&f, scored(1, 0.2, 0.5));
  add(&f, scored(2, 0.3, 0.4));
  plan(&f);
  ck_assert_str_eq(reason(&f.plan), "GoalReached");
  ck_assert_int_eq(count(&f.plan, RT_ACT_APPLY), 0);
  done(&f);
  /* The newest trial was deleted while searching: the next ones are
   * numbered after it, and maxTrials counts it. */
  f = (fixture){.exp = experiment("{'maxTrials':6}")};
  json_object_set_new(f.exp, "status", J("{'phase':'Running','trials':{'created':4}}"));
  add(&f, scored(1, 0.2, 0.5));
  add(&f, scored(2, 0.3, 0.4));
  add(&f, scored(3, 0.4, 0.3));
  plan(&f);
  ck_assert_int_eq(count(&f.plan, RT_ACT_APPLY), 2);
  ck_assert_ptr_null(applied(&f.plan, "e-4"));
  ck_assert_ptr_nonnull(applied(&f.plan, "e-5"));
  ck_assert_ptr_nonnull(applied(&f.plan, "e-6"));
  ck_assert_int_eq(f.created_up_to, 6);
  /* Not yet 6: the creations may be refused (quota); the next plan sees them. */
  ck_assert_int_eq(js_int(f.plan.status, "trials.created", 0), 4);
  ck_assert_str_eq(js_str(f.plan.status, "bestTrial.name"), "e-3");
  done(&f);
}
END_TEST

/* ---- waiting: the template, the quota -------------------------------------------------- */

static const char *ref_spec =
    "{'trialTemplate':{'templateRef':{'name':'train'},"
    "'parameters':{'rate':'{{trial.parameters.x}}','tag':'t-{{trial.number}}'}}}";

static json_t *job_template(void) {
  return J("{'apiVersion':'cubit.dev/v1alpha1','kind':'JobTemplate','metadata':{'name':'train','namespace':'ns'},"
           "'spec':{'parameters':[{'name':'rate','type':'float'},{'name':'tag','type':'string'},"
           "{'name':'epochs','type':'int','default':3}],"
           "'workload':{'framework':'batch','image':'img','args':['{{params.rate}}','{{params.tag}}','{{params.epochs}}',"
           "'{{run.name}}'],'roles':{'main':{'replicas':1}}}}}");
}

START_TEST(template_missing) {
  fixture f = {.exp = experiment(ref_spec)};
  plan(&f);
  ck_assert_uint_eq(count(&f.plan, RT_ACT_APPLY), 0);
  ck_assert_str_eq(js_str(f.plan.status, "phase"), "Pending");
  ck_assert_int_eq(rt_status_state(f.plan.status), RT_STATE_PROGRESSING);
  ck_assert_str_eq(reason(&f.plan), "TemplateNotFound");
  ck_assert_str_eq(message(&f.plan), "JobTemplate train does not exist; trials start once it does");
  ck_assert_int_eq(has_event(&f.plan, "TemplateNotFound"), 1);
  ck_assert_int_eq(f.plan.requeue_after_ms, EXP_RETRY_MS);
  done(&f);
  /* Said before: no second Warning. */
  fixture g = {.exp = experiment(ref_spec)};
  json_object_set_new(g.exp, "status", J("{'phase':'Pending','conditions':[{'type':'Ready','status':'False',"
                                         "'reason':'TemplateNotFound','message':'x'}]}"));
  plan(&g);
  ck_assert_int_eq(has_event(&g.plan, "TemplateNotFound"), 0);
  done(&g);
}
END_TEST

START_TEST(template_bindings) {
  fixture f = {.exp = experiment(ref_spec), .tmpl = job_template()};
  plan(&f);
  ck_assert_uint_eq(count(&f.plan, RT_ACT_APPLY), 2);
  const json_t *t = applied(&f.plan, "e-2");
  const json_t *args = js_get(t, "spec.args");
  ck_assert(strtod(json_string_value(json_array_get(args, 0)), NULL) >= 0);
  ck_assert_str_eq(json_string_value(json_array_get(args, 1)), "t-2");
  ck_assert_str_eq(json_string_value(json_array_get(args, 2)), "3");
  ck_assert_str_eq(json_string_value(json_array_get(args, 3)), "e-2");
  done(&f);
  /* A template whose workload is no TrainingJob: the Experiment fails. */
  fixture g = {.exp = experiment(ref_spec), .tmpl = job_template()};
  json_object_set_new(js_get(g.tmpl, "spec.workload"), "framework", json_string("caffe"));
  plan(&g);
  ck_assert_uint_eq(count(&g.plan, RT_ACT_APPLY), 0);
  ck_assert_str_eq(reason(&g.plan), "InvalidTrialTemplate");
  ck_assert_int_eq(rt_status_state(g.plan.status), RT_STATE_FAILED);
  done(&g);
}
END_TEST

START_TEST(quota_waits) {
  fixture f = {.exp = experiment(NULL)};
  json_object_set_new(f.exp, "status",
                      J("{'phase':'Running','conditions':[{'type':'Ready','status':'False','reason':'ApplyFailed',"
                        "'message':'apply TrainingJob e-2: admission webhook quota.validate.cubit.dev denied the "
                        "request: project p: quota exceeded: gpu: requested 1, used 2, quota 2'}]}"));
  add(&f, trial(1, 0.5, "Running", NULL));
  plan(&f);
  /* The same trial is asked for again, the status says why it waits, first. */
  ck_assert_uint_eq(count(&f.plan, RT_ACT_APPLY), 1);
  ck_assert_ptr_nonnull(applied(&f.plan, "e-2"));
  ck_assert_str_eq(js_str(f.plan.status, "phase"), "Queued");
  ck_assert_int_eq(rt_status_state(f.plan.status), RT_STATE_PROGRESSING);
  ck_assert_str_eq(reason(&f.plan), "QuotaExceeded");
  ck_assert_ptr_nonnull(strstr(message(&f.plan), "quota exceeded: gpu"));
  ck_assert_int_eq(f.plan.status_first, 1);
  ck_assert_int_eq(has_event(&f.plan, "QuotaExceeded"), 0); /* each refusal is the executor's ApplyFailed */
  /* Refused again: the same words, not nested, and no second Warning. */
  char said[1024];
  snprintf(said, sizeof(said), "%s", message(&f.plan));
  json_object_set(f.exp, "status", f.plan.status);
  rt_plan_free(&f.plan);
  plan(&f);
  ck_assert_str_eq(message(&f.plan), said);
  /* The status, written before the refused creation, does not count it:
   * e-2 is asked for again, not skipped. */
  ck_assert_int_eq(js_int(f.plan.status, "trials.created", 0), 1);
  ck_assert_ptr_nonnull(applied(&f.plan, "e-2"));
  done(&f);
  /* Nothing to create: no longer waiting for quota. */
  fixture g = {.exp = experiment("{'parallelTrials':1}")};
  json_object_set_new(g.exp, "status", J("{'conditions':[{'type':'Ready','status':'False','reason':'QuotaExceeded',"
                                         "'message':'quota exceeded: cpu'}]}"));
  add(&g, trial(1, 0.5, "Running", NULL));
  plan(&g);
  ck_assert_str_eq(reason(&g.plan), "Searching");
  ck_assert_int_eq(g.plan.status_first, 0);
  done(&g);
}
END_TEST

/* ---- early stopping -------------------------------------------------------------------- */

START_TEST(early_stop) {
  fixture f = {.exp = experiment("{'earlyStopping':{'name':'medianstop','settings':{'minTrials':1,'startStep':2}},"
                                 "'metricsCollector':{'source':'stdout'},'parallelTrials':2}")};
  add(&f, trial(1, 0.1, "Succeeded", "{\"state\":\"Succeeded\",\"value\":0.1,\"observations\":[[1,0.2],[2,0.1]]}"));
  add(&f, trial(2, 0.9, "Running", NULL));
  probe(&f.trials[1], "loss=0.9\nloss=0.8\n", 0);
  add(&f, trial(3, 0.2, "Running", NULL));
  probe(&f.trials[2], "loss=0.1\nloss=0.05\n", 0);
  plan(&f);
  int suspends = 0;
  json_t *rec = patched_record(&f.plan, "e-2", &suspends);
  ck_assert_ptr_nonnull(rec);
  ck_assert_int_eq(suspends, 1);
  ck_assert_str_eq(js_str(rec, "state"), "EarlyStopped");
  ck_assert_double_eq(json_number_value(json_object_get(rec, "value")), 0.8);
  ck_assert_ptr_nonnull(strstr(js_str(rec, "message"), "medianstop"));
  json_decref(rec);
  ck_assert_ptr_null(patched_record(&f.plan, "e-3", &suspends));
  ck_assert_int_eq(has_event(&f.plan, "TrialEarlyStopped"), 1);
  ck_assert_int_eq(js_int(f.plan.status, "trials.earlyStopped", 0), 1);
  /* Its slot is taken by a new trial. */
  ck_assert_ptr_nonnull(applied(&f.plan, "e-4"));
  /* Running trials' logs are read again later. */
  ck_assert_int_eq(f.plan.requeue_after_ms, EXP_POLL_MS);
  done(&f);
}
END_TEST

/* ---- spec.suspend ----------------------------------------------------------------------- */

static int suspends(const rt_plan *p, const char *name, int *value) {
  for (size_t i = 0; i < p->nactions; i++) {
    const rt_action *a = &p->actions[i];
    if (a->kind != RT_ACT_PATCH || strcmp(js_name(a->object), name) != 0) continue;
    size_t k;
    json_t *op;
    json_array_foreach(a->patch, k, op) if (strcmp(js_str(op, "path"), "/spec/suspend") == 0) {
      *value = json_is_true(json_object_get(op, "value"));
      return 1;
    }
  }
  return 0;
}

START_TEST(suspend) {
  fixture f = {.exp = experiment("{'suspend':true}")};
  add(&f, trial(1, 0.3, "Succeeded", "{\"state\":\"Succeeded\",\"value\":0.3}"));
  add(&f, trial(2, 0.6, "Running", NULL));
  add(&f, trial(3, 0.9, "Suspended", NULL));
  json_object_set_new(json_object_get((json_t *)f.trials[2].tj, "spec"), "suspend", json_true());
  plan(&f);
  int value = -1;
  ck_assert(suspends(&f.plan, "e-2", &value) && value == 1);
  ck_assert(!suspends(&f.plan, "e-1", &value));
  ck_assert(!suspends(&f.plan, "e-3", &value)); /* already */
  ck_assert_uint_eq(count(&f.plan, RT_ACT_APPLY), 0);
  ck_assert_str_eq(js_str(f.plan.status, "phase"), "Suspended");
  ck_assert_int_eq(rt_status_state(f.plan.status), RT_STATE_SUSPENDED);
  ck_assert_ptr_null(rt_condition_get(f.plan.status, "Ready"));
  ck_assert_str_eq(js_str(rt_condition_get(f.plan.status, "Suspended"), "status"), "True");
  ck_assert_int_eq(has_event(&f.plan, "Suspended"), 1);
  done(&f);
  /* Resumed: its suspended trials go on, an early-stopped one stays stopped. */
  fixture g = {.exp = experiment("{'suspend':false,'parallelTrials':3}")};
  json_object_set_new(g.exp, "status", J("{'phase':'Suspended'}"));
  add(&g, trial(1, 0.3, "Suspended", NULL));
  json_object_set_new(json_object_get((json_t *)g.trials[0].tj, "spec"), "suspend", json_true());
  add(&g, trial(2, 0.6, "Suspended", "{\"state\":\"EarlyStopped\",\"value\":0.6}"));
  json_object_set_new(json_object_get((json_t *)g.trials[1].tj, "spec"), "suspend", json_true());
  plan(&g);
  ck_assert(suspends(&g.plan, "e-1", &value) && value == 0);
  ck_assert(!suspends(&g.plan, "e-2", &value));
  ck_assert_str_eq(js_str(g.plan.status, "phase"), "Running");
  ck_assert_int_eq(has_event(&g.plan, "Resumed"), 1);
  ck_assert_uint_eq(count(&g.plan, RT_ACT_APPLY), 2);
  done(&g);
}
END_TEST

/* ---- bounded status, broken trials, an invalid spec ------------------------------------ */

START_TEST(recent_bounded) {
  fixture f = {.exp = experiment("{'maxTrials':30,'maxFailedTrials':30}")};
  for (int i = 1; i <= 25; i++) {
    char rec[96];
    snprintf(rec, sizeof(rec), "{\"state\":\"Succeeded\",\"value\":%d}", 100 - i);
    add(&f, trial(i, i / 25.0, "Succeeded", rec));
  }
  plan(&f);
  const json_t *recent = js_get(f.plan.status, "recentTrials");
  ck_assert_uint_eq(json_array_size(recent), EXP_RECENT_TRIALS);
  ck_assert_int_eq(js_int(json_array_get(recent, 0), "number", 0), 25);
  ck_assert_int_eq(js_int(json_array_get(recent, EXP_RECENT_TRIALS - 1), "number", 0), 6);
  ck_assert_str_eq(js_str(f.plan.status, "bestTrial.name"), "e-25");
  ck_assert_int_eq(js_int(f.plan.status, "trials.total", 0), 25);
  done(&f);
}
END_TEST

START_TEST(broken_trials) {
  fixture f = {.exp = experiment("{'maxFailedTrials':5}")};
  json_t *t = trial(1, 0.5, "Running", NULL);
  json_object_set_new(js_get(t, "metadata.annotations"), "cubit.dev/trial-parameters", json_string("{\"y\":1}"));
  add(&f, t);
  json_t *u = trial(2, 0.5, "Running", NULL);
  json_object_set_new(js_get(u, "metadata.labels"), "cubit.dev/trial", json_string("two"));
  add(&f, u); /* no number: not a trial */
  add(&f, trial(3, 0.5, "Running", "{\"state\":\"Bogus\"}")); /* an unreadable record: judged again */
  plan(&f);
  ck_assert_int_eq(js_int(f.plan.status, "trials.failed", 0), 1);
  ck_assert_int_eq(js_int(f.plan.status, "trials.running", 0), 1);
  ck_assert_int_eq(js_int(f.plan.status, "trials.total", 0), 2);
  /* Numbers go on after the highest: e-4, never e-1 or e-3 again. */
  ck_assert_ptr_nonnull(applied(&f.plan, "e-4"));
  ck_assert_uint_eq(count(&f.plan, RT_ACT_APPLY), 1);
  done(&f);
}
END_TEST

START_TEST(invalid_spec) {
  fixture f = {.exp = experiment("{'parameters':[{'name':'x','type':'double','min':1,'max':1}]}")};
  plan(&f);
  ck_assert_str_eq(js_str(f.plan.status, "phase"), "Failed");
  ck_assert_int_eq(rt_status_state(f.plan.status), RT_STATE_FAILED);
  ck_assert_str_eq(reason(&f.plan), "InvalidSpec");
  ck_assert_ptr_nonnull(strstr(message(&f.plan), "spec.parameters[0].max"));
  ck_assert_int_eq(has_event(&f.plan, "InvalidSpec"), 1);
  ck_assert_uint_eq(f.plan.nactions, 0);
  done(&f);
}
END_TEST

int main(void) {
  Suite *s = suite_create("experiment_plan");
  TCase *tc = tcase_create("plan");
  tcase_add_test(tc, first_trials);
  tcase_add_test(tc, cache_trails);
  tcase_add_test(tc, restart_idempotent);
  tcase_add_test(tc, trial_succeeds);
  tcase_add_loop_test(tc, trial_outcomes, 0, N(outcomes));
  tcase_add_test(tc, records_count);
  tcase_add_loop_test(tc, search_end, 0, N(ends));
  tcase_add_test(tc, trials_deleted);
  tcase_add_test(tc, template_missing);
  tcase_add_test(tc, template_bindings);
  tcase_add_test(tc, quota_waits);
  tcase_add_test(tc, early_stop);
  tcase_add_test(tc, suspend);
  tcase_add_test(tc, recent_bounded);
  tcase_add_test(tc, broken_trials);
  tcase_add_test(tc, invalid_spec);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
