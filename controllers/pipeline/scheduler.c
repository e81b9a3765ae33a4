/* The Pipeline controller: checks the pipeline against its templates and,
 * when it has a schedule, applies pl_schedule_decide: creates the runs of
 * due ticks (named "<pipeline>-<tick>"), deletes runs that were replaced,
 * beyond the history limits or past their TTL, and records the watermark.
 *
 * The informers' caches may trail the controller's own writes (a run just
 * created not yet listed, a status not yet seen). So the controller
 * remembers, per pipeline and for a while, the watermark it wrote and the
 * runs it created and deleted, and decides on the union — never on less
 * than it knows (controller-runtime's "expectations"). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "controllers/pipeline/pipeline.h"
#include "runtime/apply.h"
#include "runtime/conditions.h"
#include "runtime/controller.h"
#include "util/alloc.h"
#include "util/json.h"
#include "util/log.h"
#include "util/time.h"

#define LOGGER "pipeline"
/* How long an expectation is kept: far longer than any cache lag. */
#define MEMO_TTL_S 120
#define MEMO_MAX 64

typedef struct memo_run {
  char name[128];
  int64_t tick;
  int64_t at;
} memo_run;

typedef struct memo {
  char uid[64];
  int64_t watermark;
  memo_run created[MEMO_MAX];
  size_t ncreated;
  memo_run deleted[MEMO_MAX];
  size_t ndeleted;
  int64_t touched;
  UT_hash_handle hh;
} memo;

typedef struct sched_ctl {
  pthread_mutex_t lock;
  memo *memos;
} sched_ctl;

static void sched_ctl_free(void *arg) {
  sched_ctl *c = arg;
  memo *m, *tmp;
  HASH_ITER(hh, c->memos, m, tmp) {
    HASH_DEL(c->memos, m);
    free(m);
  }
  pthread_mutex_destroy(&c->lock);
  free(c);
}

/* A copy of the pipeline's memo (expired entries dropped), or zeros. */
static void memo_get(sched_ctl *c, const char *uid, int64_t now, memo *out) {
  memset(out, 0, sizeof(*out));
  pthread_mutex_lock(&c->lock);
  memo *m;
  HASH_FIND_STR(c->memos, uid, m);
  if (m) {
    size_t k = 0;
    for (size_t i = 0; i < m->ncreated; i++)
      if (now - m->created[i].at < MEMO_TTL_S) m->created[k++] = m->created[i];
    m->ncreated = k;
    k = 0;
    for (size_t i = 0; i < m->ndeleted; i++)
      if (now - m->deleted[i].at < MEMO_TTL_S) m->deleted[k++] = m->deleted[i];
    m->ndeleted = k;
    *out = *m;
    memset(&out->hh, 0, sizeof(out->hh));
  }
  pthread_mutex_unlock(&c->lock);
}

/* Stores the pipeline's memo; memos untouched for longer than the TTL
 * (deleted pipelines) go. */
static void memo_put(sched_ctl *c, const memo *in, int64_t now) {
  pthread_mutex_lock(&c->lock);
  memo *m, *tmp;
  HASH_ITER(hh, c->memos, m, tmp) {
    if (now - m->touched > MEMO_TTL_S && strcmp(m->uid, in->uid) != 0) {
      HASH_DEL(c->memos, m);
      free(m);
    }
  }
  HASH_FIND_STR(c->memos, in->uid, m);
  if (m == NULL) {
    m = xcalloc(1, sizeof(*m));
    snprintf(m->uid, sizeof(m->uid), "%s", in->uid);
    HASH_ADD_STR(c->memos, uid, m);
  }
  UT_hash_handle hh = m->hh;
  *m = *in;
  m->hh = hh;
  m->touched = now;
  pthread_mutex_unlock(&c->lock);
}

static void memo_add(memo_run *list, size_t *n, const char *name, int64_t tick, int64_t now) {
  if (*n == MEMO_MAX) { /* drop the oldest */
    memmove(list, list + 1, (MEMO_MAX - 1) * sizeof(memo_run));
    (*n)--;
  }
  snprintf(list[*n].name, sizeof(list[*n].name), "%s", name);
  list[*n].tick = tick;
  list[*n].at = now;
  (*n)++;
}



/* ---------------------------------------------------- templates */

typedef struct lookup_ctx {
  const rt_ctx *ctx;
  const char *ns;
  json_t *found[2 * PL_MAX_TASKS];
  size_t nfound;
} lookup_ctx;

static const json_t *lookup_template(pl_template_kind kind, const char *name, void *arg) {
  lookup_ctx *l = arg;
  cache_store *s = rt_store(l->ctx, kind == PL_TEMPLATE_CLUSTER ? &pl_clusterjobtemplate_resource
                                                                : &pl_jobtemplate_resource);
  json_t *t = s ? cache_store_get(s, kind == PL_TEMPLATE_CLUSTER ? NULL : l->ns, name) : NULL;
  if (t == NULL || l->nfound == sizeof(l->found) / sizeof(l->found[0])) {
    json_decref(t);
    return NULL;
  }
  l->found[l->nfound++] = t;
  return json_object_get(t, "spec");
}

/* ------------------------------------------------------- actions */

static json_t *desired_run(const json_t *p, int64_t tick) {
  char name[128], when[32];
  pl_run_name(js_name(p), tick, name, sizeof(name));
  time_format_rfc3339(tick, when);
  json_t *run = json_pack("{s:s, s:s, s:{s:s, s:s, s:{s:s}}, s:{s:{s:s}, s:s}}", "apiVersion", "cubit.dev/v1alpha1",
                          "kind", "PipelineRun", "metadata", "name", name, "namespace", js_namespace(p), "labels",
                          PL_LABEL_PIPELINE, js_name(p), "spec", "pipelineRef", "name", js_name(p), "scheduledTime",
                          when);
  const char *user = json_string_value(json_object_get(js_get(p, "metadata.annotations"), "cubit.dev/user"));
  if (user) json_object_set_new(json_object_get(run, "metadata"), "annotations", json_pack("{s:s}", "cubit.dev/user", user));
  rt_set_controller_ref(run, p);
  return run;
}

static const char *skip_words[PL_SKIP_NREASONS] = {
    "later than startingDeadlineSeconds",
    "missed while the scheduler was away, and catchup is false",
    "a run was active (concurrencyPolicy Forbid)",
    "a newer tick was due (concurrencyPolicy Replace)",
};

static const char *delete_words[] = {"replaced by a newer tick (concurrencyPolicy Replace)",
                                     "beyond the history limit", "runTTLSecondsAfterFinished passed"};

static int run_state_of(const json_t *run) {
  const char *phase = js_str(run, "status.phase");
  if (phase && strcmp(phase, "Succeeded") == 0) return PL_RUN_SUCCEEDED;
  if (phase && strcmp(phase, "Failed") == 0) return PL_RUN_FAILED;
  return PL_RUN_ACTIVE;
}

static rt_result write_status(const rt_ctx *ctx, const json_t *p, json_t *status) {
  kube_status st;
  int rc = 0;
  if (!json_equal(status, json_object_get(p, "status"))) {
    json_t *obj = json_pack("{s:s, s:s, s:{s:s, s:s}, s:O}", "apiVersion", "cubit.dev/v1alpha1", "kind", "Pipeline",
                            "metadata", "name", js_name(p), "namespace", js_namespace(p), "status", status);
    rc = kube_apply_status(ctx->client, &pl_pipeline_resource, obj, RT_FIELD_MANAGER, 1, NULL, &st);
    json_decref(obj);
  }
  json_decref(status);
  if (rc) {
    log_warn(LOGGER, "status update failed", "pipeline=%s/%s error=%s message=\"%s\"", js_namespace(p), js_name(p),
             cubit_strerror(rc), st.message);
    return rt_result_for_error(rc, &st);
  }
  return rt_ok();
}

/* ------------------------------------------------------ reconcile */

static rt_result reconcile(const rt_ctx *ctx, const rt_request *req) {
  sched_ctl *sc = ctx->arg;
  cache_store *pipelines = rt_store(ctx, &pl_pipeline_resource);
  cache_store *runs = rt_store(ctx, &pl_pipelinerun_resource);
  if (pipelines == NULL || runs == NULL) return rt_requeue_after(5000);
  json_t *p = cache_store_get(pipelines, req->ns, req->name);
  if (p == NULL || js_get(p, "metadata.deletionTimestamp")) {
    json_decref(p);
    return rt_ok(); /* its runs go with it (garbage collection) */
  }
  int64_t now = time_wall_s();
  json_int_t gen = js_int(p, "metadata.generation", 0);
  json_t *status = json_deep_copy(json_object_get(p, "status"));
  if (!json_is_object(status)) {
    json_decref(status);
    status = json_object();
  }
  json_object_set_new(status, "observedGeneration", json_integer(gen));
  pl_spec spec;
  char err[800];
  if (pl_spec_parse(json_object_get(p, "spec"), &spec, err, sizeof(err))) {
    const json_t *old = rt_condition_get(json_object_get(p, "status"), "Ready");
    const char *old_message = js_str(old, "message");
    if (old_message == NULL || strcmp(old_message, err) != 0)
      rt_event(ctx->events, p, "Warning", "InvalidSpec", "%s", err);
    rt_condition_set(status, "Ready", "False", "InvalidSpec", err, gen, now);
    rt_result r = write_status(ctx, p, status);
    json_decref(p);
    return r;
  }
  lookup_ctx l = {ctx, req->ns, {0}, 0};
  char template_err[800] = "";
  if (pl_spec_check_templates(&spec, lookup_template, &l, err, sizeof(err)))
    snprintf(template_err, sizeof(template_err), "%s", err);
  for (size_t k = 0; k < l.nfound; k++) json_decref(l.found[k]);

  /* The runs the schedule made. */
  cache_list owned = {0};
  if (js_uid(p)) cache_store_by_index(runs, CACHE_INDEX_OWNER, js_uid(p), &owned);
  memo mm;
  memo_get(sc, js_uid(p) ? js_uid(p) : "", now, &mm);
  snprintf(mm.uid, sizeof(mm.uid), "%s", js_uid(p) ? js_uid(p) : "");
  pl_sched_run *sr = xcalloc(owned.len + mm.ncreated + 1, sizeof(pl_sched_run));
  const json_t **objs = xcalloc(owned.len + mm.ncreated + 1, sizeof(json_t *));
  size_t nsr = 0;
  json_t *active = json_array();
  for (size_t i = 0; i < owned.len; i++) {
    const json_t *r = owned.items[i];
    int gone = 0;
    for (size_t k = 0; k < mm.ndeleted; k++) gone |= strcmp(mm.deleted[k].name, js_name(r)) == 0;
    if (gone || js_get(r, "metadata.deletionTimestamp")) continue;
    int64_t tick = js_time(r, "spec.scheduledTime");
    if (tick == 0) continue;
    pl_sched_run *x = &sr[nsr];
    x->name = js_name(r);
    x->tick = tick;
    x->created = js_time(r, "metadata.creationTimestamp");
    x->state = run_state_of(r);
    x->finished = js_time(r, "status.completionTime");
    objs[nsr++] = r;
  }
  /* Runs created but not listed yet count as active. */
  for (size_t k = 0; k < mm.ncreated; k++) {
    int listed = 0;
    for (size_t i = 0; i < nsr; i++) listed |= strcmp(sr[i].name, mm.created[k].name) == 0;
    if (listed) continue;
    pl_sched_run *x = &sr[nsr];
    x->name = mm.created[k].name;
    x->tick = mm.created[k].tick;
    x->created = mm.created[k].at;
    x->state = PL_RUN_ACTIVE;
    objs[nsr++] = NULL;
  }

  int64_t watermark = js_time(p, "status.lastScheduleTime");
  if (mm.watermark > watermark) watermark = mm.watermark;
  rt_result result = rt_ok();
  kube_status st;
  int rc = 0;
  char waiting[256] = "";
  int blocked = 0;
  int64_t next_tick = 0;
  if (spec.has_schedule) {
    pl_sched_in in = {&spec.sched, now, js_time(p, "metadata.creationTimestamp"), watermark, sr, nsr};
    pl_sched_out *o = xcalloc(1, sizeof(*o));
    pl_schedule_decide(&in, o);
    /* Deletions first: Replace frees the slot its new run takes. */
    for (size_t k = 0; k < o->ndel && rc == 0; k++) {
      const pl_sched_run *x = &sr[o->del[k].run];
      const json_t *obj = objs[o->del[k].run];
      kube_delete_options d = {.propagation_policy = "Background", .precondition_uid = obj ? js_uid(obj) : NULL};
      rc = kube_delete(ctx->client, &pl_pipelinerun_resource, req->ns, x->name, &d, &st);
      if (rc == CUBIT_ENOTFOUND) rc = 0;
      if (rc == 0) {
        memo_add(mm.deleted, &mm.ndeleted, x->name, x->tick, now);
        rt_event(ctx->events, p, "Normal", "RunDeleted", "deleted run %s: %s", x->name, delete_words[o->del[k].reason]);
      }
    }
    int64_t handled = o->watermark;
    for (size_t k = 0; k < o->ncreate && rc == 0; k++) {
      json_t *run = desired_run(p, o->create[k]);
      rc = kube_create(ctx->client, &pl_pipelinerun_resource, req->ns, run, NULL, &st);
      if (rc == 0 || rc == CUBIT_EALREADYEXISTS) {
        memo_add(mm.created, &mm.ncreated, js_name(run), o->create[k], now);
        if (rc == 0) {
          char when[32];
          time_format_rfc3339(o->create[k], when);
          rt_event(ctx->events, p, "Normal", "RunCreated", "created run %s for the tick at %s", js_name(run), when);
        }
        rc = 0;
      } else {
        /* Every tick before this one is handled; this one is not. */
        handled = o->create[k] - 1;
      }
      json_decref(run);
    }
    for (int why = 0; why < PL_SKIP_NREASONS; why++) {
      if (o->skipped[why] == 0 || o->first_skipped[why] > handled) continue;
      char a[32], b[32];
      time_format_rfc3339(o->first_skipped[why], a);
      time_format_rfc3339(o->last_skipped[why], b);
      if (o->skipped[why] == 1)
        rt_event(ctx->events, p, "Normal", "TickSkipped", "skipped the tick at %s: %s", a, skip_words[why]);
      else
        rt_event(ctx->events, p, "Normal", "TickSkipped", "skipped %zu ticks from %s to %s: %s", o->skipped[why], a, b,
                 skip_words[why]);
    }
    if (handled > watermark) {
      watermark = handled;
      mm.watermark = handled;
    }
    snprintf(waiting, sizeof(waiting), "%s", o->waiting);
    blocked = o->blocked_by_failure;
    next_tick = o->next_tick;
    if (rc == 0 && o->wakeup > 0) {
      int64_t ms = (o->wakeup - now) * 1000 + 500;
      result = rt_requeue_after(ms < 100 ? 100 : ms);
    }
    free(o);
    memo_put(sc, &mm, now);
  }

  /* Status. */
  js_set_time(status, "lastScheduleTime", watermark);
  js_set_time(status, "nextScheduleTime", next_tick);
  /* The active runs: listed ones not finished, and those just created. */
  for (size_t i = 0; i < nsr; i++) {
    int deleted = 0;
    for (size_t k = 0; k < mm.ndeleted; k++) deleted |= strcmp(mm.deleted[k].name, sr[i].name) == 0;
    if (sr[i].state == PL_RUN_ACTIVE && !deleted) json_array_append_new(active, json_string(sr[i].name));
  }
  for (size_t k = 0; k < mm.ncreated; k++) {
    int listed = 0;
    for (size_t i = 0; i < nsr; i++) listed |= strcmp(sr[i].name, mm.created[k].name) == 0;
    if (!listed) json_array_append_new(active, json_string(mm.created[k].name));
  }
  if (json_array_size(active)) json_object_set(status, "activeRuns", active);
  else json_object_del(status, "activeRuns");
  /* The newest succeeded run, by tick. */
  const pl_sched_run *best = NULL;
  for (size_t i = 0; i < nsr; i++)
    if (sr[i].state == PL_RUN_SUCCEEDED && (best == NULL || sr[i].tick > best->tick)) best = &sr[i];
  int64_t last_ok = js_time(p, "status.lastSuccessfulTime");
  if (best && best->tick >= last_ok) {
    json_object_set_new(status, "lastSuccessfulRun", json_string(best->name));
    js_set_time(status, "lastSuccessfulTime", best->tick);
  }
  char message[1000];
  const char *reason;
  const char *cstatus = "True";
  if (rc) {
    reason = "ReconcileFailed";
    cstatus = "False";
    snprintf(message, sizeof(message), "%.900s", st.message);
  } else if (template_err[0]) {
    reason = "TemplateProblem";
    cstatus = "False";
    snprintf(message, sizeof(message), "%s", template_err);
  } else if (blocked) {
    reason = "PreviousRunFailed";
    cstatus = "False";
    snprintf(message, sizeof(message), "%s", waiting);
  } else if (!spec.has_schedule) {
    reason = "Manual";
    snprintf(message, sizeof(message), "no schedule: runs are started by creating PipelineRuns");
  } else if (spec.sched.suspend) {
    reason = "Suspended";
    snprintf(message, sizeof(message), "the schedule is suspended");
  } else if (waiting[0]) {
    reason = "Waiting";
    snprintf(message, sizeof(message), "%s", waiting);
  } else if (next_tick == 0) {
    reason = "ScheduleEnded";
    snprintf(message, sizeof(message), "no more ticks before endTime");
  } else {
    reason = "Scheduled";
    char when[32];
    time_format_rfc3339(next_tick, when);
    snprintf(message, sizeof(message), "next run at %s", when);
  }
  const json_t *old_ready = rt_condition_get(json_object_get(p, "status"), "Ready");
  const char *old_reason = js_str(old_ready, "reason");
  rt_condition_set(status, "Ready", cstatus, reason, message, gen, now);
  if (strcmp(cstatus, "False") == 0 && (old_reason == NULL || strcmp(old_reason, reason) != 0))
    rt_event(ctx->events, p, "Warning", reason, "%s", message);
  rt_result wr = write_status(ctx, p, status);
  if (rc) {
    log_warn(LOGGER, "reconcile failed", "pipeline=%s/%s error=%s message=\"%s\"", req->ns, req->name,
             cubit_strerror(rc), st.message);
    result = rt_result_for_error(rc, &st);
  } else if (wr.kind != RT_OK) {
    result = wr;
  }
  json_decref(active);
  free(sr);
  free(objs);
  cache_list_free(&owned);
  pl_spec_free(&spec);
  json_decref(p);
  return result;
}

/* A template maps to the pipelines of its namespace (every namespace for a
 * ClusterJobTemplate) that use it, for their Ready condition. */
static char **map_template(const rt_ctx *ctx, const json_t *t) {
  cache_store *pipelines = rt_store(ctx, &pl_pipeline_resource);
  if (pipelines == NULL) return NULL;
  const char *kind = js_str(t, "kind");
  int cluster = kind && strcmp(kind, "ClusterJobTemplate") == 0;
  cache_list l;
  cache_store_list(pipelines, cluster ? NULL : js_namespace(t), &l);
  char **keys = xcalloc(l.len + 1, sizeof(char *));
  size_t n = 0;
  for (size_t i = 0; i < l.len; i++) {
    size_t k;
    json_t *task;
    json_array_foreach(js_get(l.items[i], "spec.tasks"), k, task) {
      const char *tk = js_str(task, "templateRef.kind");
      int tcluster = tk && strcmp(tk, "ClusterJobTemplate") == 0;
      const char *name = js_str(task, "templateRef.name");
      if (tcluster == cluster && name && strcmp(name, js_name(t)) == 0) {
        keys[n++] = cache_key(l.items[i]);
        break;
      }
    }
  }
  cache_list_free(&l);
  return keys;
}

int pipeline_controller_register(rt_manager *m) {
  sched_ctl *sc = xcalloc(1, sizeof(*sc));
  pthread_mutex_init(&sc->lock, NULL);
  rt_controller_def def = {0};
  def.name = "pipeline";
  def.primary = &pl_pipeline_resource;
  def.owns[0] = &pl_pipelinerun_resource;
  def.watches[0] = (rt_watch_def){&pl_jobtemplate_resource, map_template};
  def.watches[1] = (rt_watch_def){&pl_clusterjobtemplate_resource, map_template};
  def.workers = 2;
  def.reconcile = reconcile;
  def.arg = sc;
  def.free_arg = sched_ctl_free;
  int rc = rt_manager_add_controller(m, &def);
  if (rc) sched_ctl_free(sc);
  return rc;
}
