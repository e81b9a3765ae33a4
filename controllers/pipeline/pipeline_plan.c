/* The Pipeline's plan: is the pipeline valid (its spec, the templates its
 * tasks use), what its schedule does now (pl_schedule_decide's decision as
 * PipelineRuns to apply and delete), and the status that says both.
 *
 * States (docs/pipeline.md#status):
 *   Invalid    FAILED       the spec does not parse, or a task does not fit its template
 *   Blocked    FAILED       dependsOnPast and the previous run failed: nothing
 *                           more runs until a user retries or deletes it
 *   Pending    PROGRESSING  a template a task names does not exist (yet)
 *   Suspended  SUSPENDED    spec.schedule.suspend
 *   Manual     READY        no schedule: runs are made by hand
 *   Scheduled  READY        the schedule makes runs (reason Scheduled or Waiting)
 *   Ended      READY        no more ticks before endTime
 *
 * The status' lastScheduleTime (the watermark: every tick up to it got a
 * run or was skipped) only moves past the ticks whose runs this plan makes
 * once they exist: if one of the applies fails, its tick is decided again
 * rather than lost. A run's name carries its tick, so the next plan finds
 * the runs made and moves the watermark on. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controllers/pipeline/pipeline.h"
#include "runtime/apply.h"
#include "runtime/conditions.h"
#include "util/alloc.h"
#include "util/json.h"
#include "util/time.h"

static const char *skip_words[PL_SKIP_NREASONS] = {
    "later than startingDeadlineSeconds",
    "missed while the scheduler was away, and catchup is false",
    "a run was active (concurrencyPolicy Forbid)",
    "a newer tick was due (concurrencyPolicy Replace)",
};

static const char *delete_words[] = {"replaced by a newer tick (concurrencyPolicy Replace)",
                                     "beyond the history limit", "runTTLSecondsAfterFinished passed"};

/* ------------------------------------------------------- validity */

static const json_t *template_spec(pl_template_kind kind, const char *name, void *arg) {
  char key[320];
  pl_template_key(kind, name, key, sizeof(key));
  return json_object_get(json_object_get((const json_t *)arg, key), "spec");
}

typedef enum { TEMPLATES_OK, TEMPLATES_MISSING, TEMPLATES_INVALID } templates_state;

/* Every task's template exists and the task fits it. */
static templates_state check_templates(const pl_spec *s, const json_t *templates, char *msg, size_t len) {
  for (size_t i = 0; i < s->ntasks; i++) {
    const pl_task *t = &s->tasks[i];
    if (template_spec(t->template_kind, t->template_name, (void *)templates) == NULL) {
      snprintf(msg, len, "spec.tasks[%zu].templateRef: %s %s not found (task %s)", i,
               t->template_kind == PL_TEMPLATE_CLUSTER ? "ClusterJobTemplate" : "JobTemplate", t->template_name,
               t->name);
      return TEMPLATES_MISSING;
    }
  }
  return pl_spec_check_templates(s, template_spec, (void *)templates, msg, len) ? TEMPLATES_INVALID : TEMPLATES_OK;
}

/* ---------------------------------------------------------- runs */

/* The runs the schedule made, as the decision sees them: those listed (less
 * the ones the controller deleted) and those it created but the cache does
 * not list yet (active). objs[i] is the listed object, or NULL. */
typedef struct runs_view {
  pl_sched_run *runs;
  const json_t **objs;
  size_t n;
} runs_view;

static int run_state_of(const json_t *run) {
  const char *phase = js_str(run, "status.phase");
  if (phase && strcmp(phase, "Succeeded") == 0) return PL_RUN_SUCCEEDED;
  if (phase && strcmp(phase, "Failed") == 0) return PL_RUN_FAILED;
  return PL_RUN_ACTIVE;
}

static int memo_has(const pl_memo_run *list, size_t n, const char *name) {
  for (size_t k = 0; k < n; k++)
    if (strcmp(list[k].name, name) == 0) return 1;
  return 0;
}

static void memo_add(pl_memo_run *list, size_t *n, const char *name, int64_t tick, int64_t now) {
  if (*n == PL_MEMO_MAX) { /* drop the oldest */
    memmove(list, list + 1, (PL_MEMO_MAX - 1) * sizeof(pl_memo_run));
    (*n)--;
  }
  snprintf(list[*n].name, sizeof(list[*n].name), "%s", name);
  list[*n].tick = tick;
  list[*n].at = now;
  (*n)++;
}

static void runs_view_init(runs_view *v, const cache_list *listed, const pl_memo *known) {
  size_t cap = (listed ? listed->len : 0) + known->ncreated + 1;
  v->runs = xcalloc(cap, sizeof(pl_sched_run));
  v->objs = xcalloc(cap, sizeof(json_t *));
  v->n = 0;
  for (size_t i = 0; listed && i < listed->len; i++) {
    const json_t *r = listed->items[i];
    int64_t tick = js_time(r, "spec.scheduledTime");
    if (tick == 0 || js_get(r, "metadata.deletionTimestamp") ||
        memo_has(known->deleted, known->ndeleted, js_name(r)))
      continue;
    pl_sched_run *x = &v->runs[v->n];
    x->name = js_name(r);
    x->tick = tick;
    x->created = js_time(r, "metadata.creationTimestamp");
    x->state = run_state_of(r);
    x->finished = js_time(r, "status.completionTime");
    v->objs[v->n++] = r;
  }
  for (size_t k = 0; k < known->ncreated; k++) {
    const pl_memo_run *m = &known->created[k];
    int listed_already = 0;
    for (size_t i = 0; i < v->n; i++) listed_already |= strcmp(v->runs[i].name, m->name) == 0;
    if (listed_already || memo_has(known->deleted, known->ndeleted, m->name)) continue;
    pl_sched_run *x = &v->runs[v->n];
    x->name = m->name;
    x->tick = m->tick;
    x->created = m->at;
    x->state = PL_RUN_ACTIVE;
    v->objs[v->n++] = NULL;
  }
}

static void runs_view_free(runs_view *v) {
  free(v->runs);
  free(v->objs);
}

static json_t *desired_run(const json_t *p, int64_t tick) {
  char name[128], when[32];
  pl_run_name(js_name(p), tick, name, sizeof(name));
  time_format_rfc3339(tick, when);
  json_t *run = json_pack("{s:s, s:s, s:{s:s, s:s, s:{s:s}}, s:{s:{s:s}, s:s}}", "apiVersion", "cubit.dev/v1alpha1",
                          "kind", "PipelineRun", "metadata", "name", name, "namespace", js_namespace(p), "labels",
                          PL_LABEL_PIPELINE, js_name(p), "spec", "pipelineRef", "name", js_name(p), "scheduledTime",
                          when);
  const char *user = json_string_value(json_object_get(js_get(p, "metadata.annotations"), "cubit.dev/user"));
  if (user)
    json_object_set_new(json_object_get(run, "metadata"), "annotations", json_pack("{s:s}", "cubit.dev/user", user));
  /* Where its runs are placed as a whole (docs/multicluster.md). */
  static const char *placing[] = {"cluster", "placement"};
  for (size_t i = 0; i < 2; i++) {
    json_t *v = json_object_get(json_object_get(p, "spec"), placing[i]);
    if (v) json_object_set_new(json_object_get(run, "spec"), placing[i], json_deep_copy(v));
  }
  rt_set_controller_ref(run, p);
  return run;
}

/* ------------------------------------------------------- schedule */

/* What the schedule step tells the state decision. */
typedef struct sched_summary {
  char waiting[256];
  int blocked;
  int64_t next_tick;
} sched_summary;

/* One event per skip reason for the skipped ticks up to 'upto' (the later
 * ones are decided again by the next plan, and reported then). */
static void skip_events(const pl_sched_out *o, int64_t upto, rt_plan *plan) {
  for (int why = 0; why < PL_SKIP_NREASONS; why++) {
    size_t count = 0;
    int64_t first = 0, last = 0;
    for (size_t k = 0; k < o->nskips; k++) {
      if (o->skips[k].why != (pl_skip_reason)why || o->skips[k].tick > upto) continue;
      if (count++ == 0) first = o->skips[k].tick;
      last = o->skips[k].tick;
    }
    if (count == 0) continue;
    char a[32], b[32];
    time_format_rfc3339(first, a);
    time_format_rfc3339(last, b);
    if (count == 1)
      rt_plan_event(plan, "Normal", "TickSkipped", "skipped the tick at %s: %s", a, skip_words[why]);
    else
      rt_plan_event(plan, "Normal", "TickSkipped", "skipped %zu ticks from %s to %s: %s", count, a, b,
                    skip_words[why]);
  }
}

/* Carries the decision into the plan: deletions first (Replace frees the
 * slot its new run takes), then the new runs. Returns the watermark to
 * write. */
static int64_t plan_decision(const pl_pipeline_in *in, const runs_view *v, const pl_sched_out *o, int64_t watermark,
                             rt_plan *plan, pl_memo *learned) {
  const json_t *p = in->pipeline;
  for (size_t k = 0; k < o->ndel; k++) {
    const pl_sched_run *x = &v->runs[o->del[k].run];
    const json_t *obj = v->objs[o->del[k].run];
    /* A run created but not listed yet: deleted by name, without a uid. */
    json_t *stub = obj ? NULL
                       : json_pack("{s:{s:s, s:s}}", "metadata", "name", x->name, "namespace", js_namespace(p));
    rt_plan_delete(plan, &pl_pipelinerun_resource, obj ? obj : stub, "Background");
    json_decref(stub);
    memo_add(learned->deleted, &learned->ndeleted, x->name, x->tick, in->now);
    rt_plan_event(plan, "Normal", "RunDeleted", "deleted run %s: %s", x->name, delete_words[o->del[k].reason]);
  }
  for (size_t k = 0; k < o->ncreate; k++) {
    json_t *run = desired_run(p, o->create[k]);
    char when[32];
    time_format_rfc3339(o->create[k], when);
    rt_plan_event(plan, "Normal", "RunCreated", "created run %s for the tick at %s", js_name(run), when);
    memo_add(learned->created, &learned->ncreated, js_name(run), o->create[k], in->now);
    rt_plan_apply(plan, &pl_pipelinerun_resource, run);
  }
  int64_t upto = o->settled;
  if (upto < watermark) upto = watermark;
  skip_events(o, upto, plan);
  if (o->wakeup > 0) rt_plan_requeue_after(plan, (o->wakeup - in->now) * 1000 + 500);
  /* Look again soon to find the new runs and move the watermark past them. */
  if (o->ncreate) rt_plan_requeue_after(plan, 1000);
  return upto;
}

/* Names of the active runs, as the decision left them. */
static void active_runs(const runs_view *v, const pl_sched_out *o, const json_t *p, json_t *status) {
  json_t *active = json_array();
  for (size_t i = 0; i < v->n; i++) {
    int deleted = 0;
    for (size_t k = 0; o && k < o->ndel; k++) deleted |= o->del[k].run == i;
    if (v->runs[i].state == PL_RUN_ACTIVE && !deleted) json_array_append_new(active, json_string(v->runs[i].name));
  }
  for (size_t k = 0; o && k < o->ncreate; k++) {
    char name[128];
    pl_run_name(js_name(p), o->create[k], name, sizeof(name));
    json_array_append_new(active, json_string(name));
  }
  json_object_set_new(status, "active", json_integer((json_int_t)json_array_size(active)));
  if (json_array_size(active)) json_object_set_new(status, "activeRuns", active);
  else {
    json_decref(active);
    json_object_del(status, "activeRuns");
  }
}

/* The newest succeeded run, by tick. */
static void last_success(const runs_view *v, const json_t *p, json_t *status) {
  const pl_sched_run *best = NULL;
  for (size_t i = 0; i < v->n; i++)
    if (v->runs[i].state == PL_RUN_SUCCEEDED && (best == NULL || v->runs[i].tick > best->tick)) best = &v->runs[i];
  if (best && best->tick >= js_time(p, "status.lastSuccessfulTime")) {
    json_object_set_new(status, "lastSuccessfulRun", json_string(best->name));
    js_set_time(status, "lastSuccessfulTime", best->tick);
  }
}

/* The schedule's part of the plan and of the status. */
static void schedule(const pl_pipeline_in *in, const pl_spec *spec, json_t *status, rt_plan *plan, pl_memo *learned,
                     sched_summary *sum) {
  const json_t *p = in->pipeline;
  runs_view v;
  runs_view_init(&v, in->runs, in->known);
  int64_t watermark = js_time(p, "status.lastScheduleTime");
  if (in->known->watermark > watermark) watermark = in->known->watermark;
  pl_sched_out *o = NULL;
  if (spec->has_schedule) {
    pl_sched_in sin = {&spec->sched, in->now, js_time(p, "metadata.creationTimestamp"), watermark, v.runs, v.n};
    o = xcalloc(1, sizeof(*o));
    pl_schedule_decide(&sin, o);
    watermark = plan_decision(in, &v, o, watermark, plan, learned);
    if (watermark > learned->watermark) learned->watermark = watermark;
    snprintf(sum->waiting, sizeof(sum->waiting), "%s", o->waiting);
    sum->blocked = o->blocked_by_failure;
    sum->next_tick = o->next_tick;
  }
  js_set_time(status, "lastScheduleTime", watermark);
  js_set_time(status, "nextScheduleTime", sum->next_tick);
  active_runs(&v, o, p, status);
  last_success(&v, p, status);
  free(o);
  runs_view_free(&v);
}

/* ---------------------------------------------------------- plan */

/* The phase and state the pipeline is in, worst first (the table at the
 * top of this file). */
static void pipeline_state(const pl_pipeline_in *in, const pl_spec *spec, templates_state ts, const char *tmsg,
                           const sched_summary *sum, json_t *status, rt_plan *plan) {
  const json_t *p = in->pipeline;
  if (ts == TEMPLATES_INVALID) {
    pl__set_state(plan, status, p, "Invalid", RT_STATE_FAILED, "TemplateMismatch", tmsg, in->now, PL_WARN_MESSAGE);
  } else if (sum->blocked) {
    pl__set_state(plan, status, p, "Blocked", RT_STATE_FAILED, "PreviousRunFailed", sum->waiting, in->now,
                  PL_WARN_REASON);
  } else if (ts == TEMPLATES_MISSING) {
    pl__set_state(plan, status, p, "Pending", RT_STATE_PROGRESSING, "TemplateNotFound", tmsg, in->now,
                  PL_WARN_MESSAGE);
  } else if (!spec->has_schedule) {
    pl__set_state(plan, status, p, "Manual", RT_STATE_READY, "Manual",
                  "no schedule: runs are started by creating PipelineRuns", in->now, PL_WARN_NONE);
  } else if (spec->sched.suspend) {
    pl__set_state(plan, status, p, "Suspended", RT_STATE_SUSPENDED, "Suspended",
                  "the schedule is suspended (spec.schedule.suspend)", in->now, PL_WARN_NONE);
  } else if (sum->waiting[0]) {
    pl__set_state(plan, status, p, "Scheduled", RT_STATE_READY, "Waiting", sum->waiting, in->now, PL_WARN_NONE);
  } else if (sum->next_tick == 0) {
    pl__set_state(plan, status, p, "Ended", RT_STATE_READY, "ScheduleEnded", "no more ticks before endTime", in->now,
                  PL_WARN_NONE);
  } else {
    char when[32], msg[64];
    time_format_rfc3339(sum->next_tick, when);
    snprintf(msg, sizeof(msg), "next run at %s", when);
    pl__set_state(plan, status, p, "Scheduled", RT_STATE_READY, "Scheduled", msg, in->now, PL_WARN_NONE);
  }
}

void pl_pipeline_plan(const pl_pipeline_in *in, rt_plan *plan, pl_memo *learned) {
  const json_t *p = in->pipeline;
  *learned = *in->known;
  /* The status first: it claims no tick whose run is still to be made, and
   * a status decided from a stale object (a conflict) then stops the plan
   * before it makes runs whose events would be lost. */
  plan->status_first = 1;
  json_t *status = rt_status_from(p);
  pl_spec spec;
  char err[800];
  if (pl_spec_parse(json_object_get(p, "spec"), &spec, err, sizeof(err))) {
    pl__set_state(plan, status, p, "Invalid", RT_STATE_FAILED, "InvalidSpec", err, in->now, PL_WARN_MESSAGE);
    rt_plan_set_status(plan, status);
    return;
  }
  char tmsg[800] = "";
  templates_state ts = check_templates(&spec, in->templates, tmsg, sizeof(tmsg));
  /* Runs go on being made while a template is missing or does not fit:
   * they wait for it, or fail saying why. */
  sched_summary sum = {"", 0, 0};
  schedule(in, &spec, status, plan, learned, &sum);
  pipeline_state(in, &spec, ts, tmsg, &sum, status, plan);
  rt_plan_set_status(plan, status);
  pl_spec_free(&spec);
}
