/* The pipeline controllers (controllers/pipeline): the scheduler's decision
 * (ticks in a window, time zones across DST, backfill, catchup,
 * dependsOnPast, Forbid, Replace, maxActiveRuns, deadlines, history and
 * TTL), the DAG executor's step (order, parallelism, retries, FailFast and
 * Continue, skip, when, timeout, retry from failure), a task's TrainingJob,
 * the outputs reader (its script run by sh), and the plans of Pipeline,
 * PipelineRun and the templates: observed state in, status (phase, state,
 * conditions, reason, message), children, events and requeue out. The
 * kinds' parsers are in test_pipeline_api.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "controllers/pipeline/pipeline.h"
#include "controllers/trainingjob/trainingjob.h"
#include "runtime/conditions.h"
#include "util/alloc.h"
#include "testutil.h"
#include "util/json.h"
#include "util/time.h"

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* Fixtures written with single quotes (testutil_json). */
#define J(text) testutil_json(text)

#define T(rfc3339) testutil_time(rfc3339)

/* ========================================================== schedule */

static void sched_new(pl_schedule *s, const char *cron, const char *zone) {
  memset(s, 0, sizeof(*s));
  char err[256] = "";
  ck_assert_msg(cron_parse(cron, &s->cron, err, sizeof(err)) == 0, "%s", err);
  ck_assert_msg(tz_load(zone, &s->zone, err, sizeof(err)) == 0, "%s", err);
  s->catchup = 1;
  s->policy = PL_ALLOW;
  s->deadline_s = -1;
  s->keep_succeeded = 100;
  s->keep_failed = 100;
  s->ttl_s = -1;
}

static void sched_free(pl_schedule *s) {
  cron_free(s->cron);
  tz_free(s->zone);
}

/* The runs that exist, as the scheduler sees them. */
typedef struct world {
  pl_sched_run runs[400];
  char names[400][64];
  size_t n;
  int64_t watermark;
  int64_t created_ticks[400]; /* every tick that ever got a run, in creation order */
  size_t ncreated;
  int max_active;
} world;

static pl_sched_run *world_add(world *w, int64_t tick, int64_t created, int state, int64_t finished) {
  ck_assert_uint_lt(w->n, 400);
  pl_run_name("etl", tick, w->names[w->n], sizeof(w->names[w->n]));
  pl_sched_run *r = &w->runs[w->n];
  r->name = w->names[w->n];
  r->tick = tick;
  r->created = created;
  r->state = state;
  r->finished = finished;
  w->n++;
  return r;
}

static void world_remove(world *w, size_t i) {
  for (size_t k = i; k + 1 < w->n; k++) {
    w->runs[k] = w->runs[k + 1];
    memcpy(w->names[k], w->names[k + 1], sizeof(w->names[k]));
  }
  w->n--;
  for (size_t k = 0; k < w->n; k++) w->runs[k].name = w->names[k];
}

static int world_active(const world *w) {
  int n = 0;
  for (size_t i = 0; i < w->n; i++) n += w->runs[i].state == PL_RUN_ACTIVE;
  return n;
}

/* One decision at 'now', applied to the world. */
static void world_step(world *w, const pl_schedule *s, int64_t created, int64_t now, pl_sched_out *o) {
  pl_sched_in in = {s, now, created, w->watermark, w->runs, w->n};
  pl_schedule_decide(&in, o);
  /* Delete highest index first so indexes stay valid. */
  for (size_t k = o->ndel; k-- > 0;) {
    size_t idx = o->del[k].run;
    for (size_t m = 0; m < k; m++) ck_assert_uint_ne(o->del[m].run, idx);
  }
  unsigned char gone[400] = {0};
  for (size_t k = 0; k < o->ndel; k++) gone[o->del[k].run] = 1;
  for (size_t i = w->n; i-- > 0;)
    if (gone[i]) world_remove(w, i);
  for (size_t k = 0; k < o->ncreate; k++) {
    for (size_t i = 0; i < w->n; i++) ck_assert_msg(w->runs[i].tick != o->create[k], "tick %lld twice", (long long)o->create[k]);
    world_add(w, o->create[k], now, PL_RUN_ACTIVE, 0);
    w->created_ticks[w->ncreated++] = o->create[k];
  }
  w->watermark = o->watermark;
  if (world_active(w) > w->max_active) w->max_active = world_active(w);
}

/* Finishes the oldest active run (by tick). */
static void world_finish_oldest(world *w, int state, int64_t now) {
  pl_sched_run *oldest = NULL;
  for (size_t i = 0; i < w->n; i++)
    if (w->runs[i].state == PL_RUN_ACTIVE && (oldest == NULL || w->runs[i].tick < oldest->tick)) oldest = &w->runs[i];
  if (oldest) {
    oldest->state = state;
    oldest->finished = now;
  }
}

START_TEST(sched_backfill_window) {
  pl_schedule s;
  sched_new(&s, "0 * * * *", "UTC");
  s.start = T("2026-03-10T04:30:00Z");
  world w = {0};
  pl_sched_out o;
  world_step(&w, &s, T("2026-03-10T10:29:00Z"), T("2026-03-10T10:30:00Z"), &o);
  ck_assert_uint_eq(o.ncreate, 6);
  for (int k = 0; k < 6; k++) ck_assert_int_eq(o.create[k], T("2026-03-10T05:00:00Z") + 3600 * k);
  ck_assert_int_eq(o.watermark, T("2026-03-10T10:00:00Z"));
  ck_assert_int_eq(o.next_tick, T("2026-03-10T11:00:00Z"));
  ck_assert_int_eq(o.wakeup, T("2026-03-10T11:00:00Z"));
  ck_assert_str_eq(w.names[0], "etl-1773118800");
  /* Nothing more is due until the next tick; then exactly that one. */
  world_step(&w, &s, T("2026-03-10T10:29:00Z"), T("2026-03-10T10:59:59Z"), &o);
  ck_assert_uint_eq(o.ncreate, 0);
  world_step(&w, &s, T("2026-03-10T10:29:00Z"), T("2026-03-10T11:00:00Z"), &o);
  ck_assert_uint_eq(o.ncreate, 1);
  ck_assert_int_eq(o.create[0], T("2026-03-10T11:00:00Z"));
  /* Without a startTime, ticks after the pipeline's creation only. */
  world w2 = {0};
  s.start = 0;
  world_step(&w2, &s, T("2026-03-10T10:29:00Z"), T("2026-03-10T12:30:00Z"), &o);
  ck_assert_uint_eq(o.ncreate, 2);
  ck_assert_int_eq(o.create[0], T("2026-03-10T11:00:00Z"));
  sched_free(&s);
}
END_TEST

START_TEST(sched_max_active_runs) {
  pl_schedule s;
  sched_new(&s, "0 * * * *", "UTC");
  s.start = T("2026-03-10T04:30:00Z");
  s.max_active = 2;
  world w = {0};
  pl_sched_out o;
  int64_t created = T("2026-03-10T10:29:00Z"), now = T("2026-03-10T10:30:00Z");
  world_step(&w, &s, created, now, &o);
  ck_assert_uint_eq(o.ncreate, 2);
  ck_assert_str_eq(o.waiting, "maxActiveRuns (2) reached");
  ck_assert_int_eq(o.watermark, T("2026-03-10T06:00:00Z"));
  /* Runs finish one by one; the backlog drains in tick order, two at a time. */
  for (int round = 0; round < 20; round++) {
    now += 1;
    world_finish_oldest(&w, PL_RUN_SUCCEEDED, now);
    world_step(&w, &s, created, now, &o);
  }
  ck_assert_uint_eq(w.ncreated, 6);
  for (size_t k = 0; k < 6; k++) ck_assert_int_eq(w.created_ticks[k], T("2026-03-10T05:00:00Z") + 3600 * (int64_t)k);
  ck_assert_int_eq(w.max_active, 2);
  sched_free(&s);
}
END_TEST

START_TEST(sched_depends_on_past) {
  pl_schedule s;
  sched_new(&s, "0 * * * *", "UTC");
  s.start = T("2026-03-10T04:30:00Z");
  s.depends_on_past = 1;
  world w = {0};
  pl_sched_out o;
  int64_t created = T("2026-03-10T10:29:00Z"), now = T("2026-03-10T10:30:00Z");
  world_step(&w, &s, created, now, &o);
  ck_assert_uint_eq(o.ncreate, 1);
  ck_assert_str_eq(o.waiting, "waiting for run of the previous tick to finish (dependsOnPast)");
  world_step(&w, &s, created, ++now, &o);
  ck_assert_uint_eq(o.ncreate, 0);
  ck_assert_str_eq(o.waiting, "waiting for run etl-1773118800 to finish (dependsOnPast)");
  /* The first succeeds: the second starts. The second fails: everything waits. */
  world_finish_oldest(&w, PL_RUN_SUCCEEDED, ++now);
  world_step(&w, &s, created, ++now, &o);
  ck_assert_uint_eq(o.ncreate, 1);
  ck_assert_int_eq(o.create[0], T("2026-03-10T06:00:00Z"));
  world_finish_oldest(&w, PL_RUN_FAILED, ++now);
  world_step(&w, &s, created, ++now, &o);
  ck_assert_uint_eq(o.ncreate, 0);
  ck_assert_int_eq(o.blocked_by_failure, 1);
  ck_assert_str_eq(o.waiting, "run etl-1773122400 failed: dependsOnPast holds every later tick until it succeeds "
                              "(retry it with the cubit.dev/retry annotation, or delete it)");
  /* The failed run is the newest: the history limit keeps it. */
  s.keep_failed = 0;
  world_step(&w, &s, created, ++now, &o);
  ck_assert_uint_eq(o.ndel, 0);
  /* Retried to success: the schedule goes on, one at a time, in tick order. */
  w.runs[1].state = PL_RUN_SUCCEEDED;
  for (int round = 0; round < 10; round++) {
    world_step(&w, &s, created, ++now, &o);
    world_finish_oldest(&w, PL_RUN_SUCCEEDED, ++now);
  }
  ck_assert_uint_eq(w.ncreated, 6);
  for (size_t k = 0; k < 6; k++) ck_assert_int_eq(w.created_ticks[k], T("2026-03-10T05:00:00Z") + 3600 * (int64_t)k);
  ck_assert_int_eq(w.max_active, 1);
  sched_free(&s);
}
END_TEST

/* A crash after creating runs but before recording the watermark: the runs
 * are recognised by their ticks, none is made twice, and they count. */
START_TEST(sched_after_a_crash) {
  pl_schedule s;
  sched_new(&s, "0 * * * *", "UTC");
  s.start = T("2026-03-10T04:30:00Z");
  s.max_active = 3;
  world w = {0};
  int64_t now = T("2026-03-10T10:30:00Z");
  world_add(&w, T("2026-03-10T05:00:00Z"), now - 60, PL_RUN_SUCCEEDED, now - 30);
  world_add(&w, T("2026-03-10T06:00:00Z"), now - 60, PL_RUN_ACTIVE, 0);
  world_add(&w, T("2026-03-10T07:00:00Z"), now - 60, PL_RUN_ACTIVE, 0);
  pl_sched_out o;
  world_step(&w, &s, T("2026-03-10T10:29:00Z"), now, &o); /* watermark 0: nothing recorded */
  ck_assert_uint_eq(o.ncreate, 1);
  ck_assert_int_eq(o.create[0], T("2026-03-10T08:00:00Z"));
  ck_assert_int_eq(o.watermark, T("2026-03-10T08:00:00Z"));
  sched_free(&s);
}
END_TEST

START_TEST(sched_catchup_false) {
  pl_schedule s;
  sched_new(&s, "0 * * * *", "UTC");
  s.catchup = 0;
  /* Down from 06:30 to 10:30: 07, 08 and 09 are skipped, 10 runs. */
  world w = {0};
  w.watermark = T("2026-03-10T06:00:00Z");
  pl_sched_out o;
  world_step(&w, &s, T("2026-03-10T03:00:00Z"), T("2026-03-10T10:30:00Z"), &o);
  ck_assert_uint_eq(o.ncreate, 1);
  ck_assert_int_eq(o.create[0], T("2026-03-10T10:00:00Z"));
  ck_assert_uint_eq(o.skipped[PL_SKIP_CATCHUP], 3);
  ck_assert_int_eq(o.first_skipped[PL_SKIP_CATCHUP], T("2026-03-10T07:00:00Z"));
  ck_assert_int_eq(o.last_skipped[PL_SKIP_CATCHUP], T("2026-03-10T09:00:00Z"));
  /* With catchup they all run. */
  world w2 = {0};
  w2.watermark = T("2026-03-10T06:00:00Z");
  s.catchup = 1;
  world_step(&w2, &s, T("2026-03-10T03:00:00Z"), T("2026-03-10T10:30:00Z"), &o);
  ck_assert_uint_eq(o.ncreate, 4);
  /* A backfill (ticks before the pipeline existed) runs even without catchup. */
  world w3 = {0};
  s.catchup = 0;
  s.start = T("2026-03-10T04:30:00Z");
  world_step(&w3, &s, T("2026-03-10T08:15:00Z"), T("2026-03-10T10:30:00Z"), &o);
  ck_assert_uint_eq(o.ncreate, 5); /* 05, 06, 07, 08 (backfill) and 10; 09 missed */
  ck_assert_int_eq(o.create[3], T("2026-03-10T08:00:00Z"));
  ck_assert_int_eq(o.create[4], T("2026-03-10T10:00:00Z"));
  ck_assert_uint_eq(o.skipped[PL_SKIP_CATCHUP], 1);
  sched_free(&s);
}
END_TEST

START_TEST(sched_forbid) {
  pl_schedule s;
  sched_new(&s, "0 * * * *", "UTC");
  s.policy = PL_FORBID;
  /* A run started at 09:00:05 is still active at 11:30: 10 and 11 came while it ran. */
  world w = {0};
  world_add(&w, T("2026-03-10T09:00:00Z"), T("2026-03-10T09:00:05Z"), PL_RUN_ACTIVE, 0);
  w.watermark = T("2026-03-10T09:00:00Z");
  pl_sched_out o;
  world_step(&w, &s, T("2026-03-10T01:00:00Z"), T("2026-03-10T11:30:00Z"), &o);
  ck_assert_uint_eq(o.ncreate, 0);
  ck_assert_uint_eq(o.skipped[PL_SKIP_FORBID], 2);
  ck_assert_int_eq(o.watermark, T("2026-03-10T11:00:00Z"));
  /* Nothing active and two due: the first starts, the second waits for it
   * (it was due before that run began), then runs. */
  world w2 = {0};
  w2.watermark = T("2026-03-10T08:00:00Z");
  int64_t now = T("2026-03-10T10:30:00Z");
  world_step(&w2, &s, T("2026-03-10T01:00:00Z"), now, &o);
  ck_assert_uint_eq(o.ncreate, 1);
  ck_assert_str_eq(o.waiting, "waiting for run started just now to finish (concurrencyPolicy Forbid)");
  world_step(&w2, &s, T("2026-03-10T01:00:00Z"), now + 5, &o);
  ck_assert_uint_eq(o.ncreate, 0);
  ck_assert_str_eq(o.waiting, "waiting for run etl-1773133200 to finish (concurrencyPolicy Forbid)");
  world_finish_oldest(&w2, PL_RUN_SUCCEEDED, now + 10);
  world_step(&w2, &s, T("2026-03-10T01:00:00Z"), now + 11, &o);
  ck_assert_uint_eq(o.ncreate, 1);
  ck_assert_int_eq(o.create[0], T("2026-03-10T10:00:00Z"));
  ck_assert_int_eq(w2.max_active, 1);
  sched_free(&s);
}
END_TEST

START_TEST(sched_replace) {
  pl_schedule s;
  sched_new(&s, "0 * * * *", "UTC");
  s.policy = PL_REPLACE;
  world w = {0};
  world_add(&w, T("2026-03-10T09:00:00Z"), T("2026-03-10T09:00:05Z"), PL_RUN_ACTIVE, 0);
  world_add(&w, T("2026-03-10T08:00:00Z"), T("2026-03-10T08:00:05Z"), PL_RUN_SUCCEEDED, T("2026-03-10T08:10:00Z"));
  w.watermark = T("2026-03-10T09:00:00Z");
  pl_sched_in in = {&s, T("2026-03-10T11:30:00Z"), T("2026-03-10T01:00:00Z"), w.watermark, w.runs, w.n};
  pl_sched_out o;
  pl_schedule_decide(&in, &o);
  ck_assert_uint_eq(o.skipped[PL_SKIP_SUPERSEDED], 1); /* 10:00 */
  ck_assert_uint_eq(o.ndel, 1);
  ck_assert_uint_eq(o.del[0].run, 0);
  ck_assert_int_eq(o.del[0].reason, PL_DELETE_REPLACED);
  ck_assert_uint_eq(o.ncreate, 1);
  ck_assert_int_eq(o.create[0], T("2026-03-10T11:00:00Z"));
  sched_free(&s);
}
END_TEST

START_TEST(sched_starting_deadline) {
  pl_schedule s;
  sched_new(&s, "0 * * * *", "UTC");
  s.deadline_s = 600;
  world w = {0};
  w.watermark = T("2026-03-10T08:00:00Z");
  pl_sched_out o;
  world_step(&w, &s, T("2026-03-10T01:00:00Z"), T("2026-03-10T10:30:00Z"), &o);
  ck_assert_uint_eq(o.ncreate, 0);
  ck_assert_uint_eq(o.skipped[PL_SKIP_DEADLINE], 2);
  world w2 = {0};
  w2.watermark = T("2026-03-10T08:00:00Z");
  world_step(&w2, &s, T("2026-03-10T01:00:00Z"), T("2026-03-10T10:05:00Z"), &o);
  ck_assert_uint_eq(o.ncreate, 1); /* 10:00 is 5 minutes late: in time */
  ck_assert_uint_eq(o.skipped[PL_SKIP_DEADLINE], 1);
  /* A tick that waited (maxActiveRuns) past its deadline is skipped, not started late. */
  world w3 = {0};
  s.max_active = 1;
  w3.watermark = T("2026-03-10T09:00:00Z");
  world_add(&w3, T("2026-03-10T09:00:00Z"), T("2026-03-10T09:00:02Z"), PL_RUN_ACTIVE, 0);
  world_step(&w3, &s, T("2026-03-10T01:00:00Z"), T("2026-03-10T10:01:00Z"), &o);
  ck_assert_uint_eq(o.ncreate, 0);
  ck_assert_str_eq(o.waiting, "maxActiveRuns (1) reached");
  world_finish_oldest(&w3, PL_RUN_SUCCEEDED, T("2026-03-10T10:20:00Z"));
  world_step(&w3, &s, T("2026-03-10T01:00:00Z"), T("2026-03-10T10:20:00Z"), &o);
  ck_assert_uint_eq(o.ncreate, 0);
  ck_assert_uint_eq(o.skipped[PL_SKIP_DEADLINE], 1);
  sched_free(&s);
}
END_TEST

START_TEST(sched_suspend_and_end) {
  pl_schedule s;
  sched_new(&s, "0 * * * *", "UTC");
  s.suspend = 1;
  s.ttl_s = 60;
  world w = {0};
  w.watermark = T("2026-03-10T06:00:00Z");
  int64_t now = T("2026-03-10T10:30:00Z");
  world_add(&w, T("2026-03-10T06:00:00Z"), now - 3600, PL_RUN_SUCCEEDED, now - 100);
  pl_sched_out o;
  pl_sched_in in = {&s, now, T("2026-03-10T01:00:00Z"), w.watermark, w.runs, w.n};
  pl_schedule_decide(&in, &o);
  ck_assert_uint_eq(o.ncreate, 0);
  ck_assert_int_eq(o.watermark, w.watermark); /* suspended ticks wait: resuming catches up */
  ck_assert_int_eq(o.next_tick, 0);
  ck_assert_uint_eq(o.ndel, 1); /* the TTL still applies */
  ck_assert_int_eq(o.del[0].reason, PL_DELETE_TTL);
  /* endTime: ticks up to it, then none. */
  s.suspend = 0;
  s.ttl_s = -1;
  s.end = T("2026-03-10T08:00:00Z");
  world w2 = {0};
  w2.watermark = T("2026-03-10T06:00:00Z");
  world_step(&w2, &s, T("2026-03-10T01:00:00Z"), now, &o);
  ck_assert_uint_eq(o.ncreate, 2);
  ck_assert_int_eq(o.create[1], T("2026-03-10T08:00:00Z"));
  ck_assert_int_eq(o.next_tick, 0);
  ck_assert_int_eq(o.wakeup, 0);
  sched_free(&s);
}
END_TEST

START_TEST(sched_history_and_ttl) {
  pl_schedule s;
  sched_new(&s, "0 * * * *", "UTC");
  s.keep_succeeded = 2;
  s.keep_failed = 1;
  int64_t now = T("2026-03-10T10:30:00Z");
  world w = {0};
  w.watermark = T("2026-03-10T10:00:00Z");
  /* Succeeded 05, 06, 08, 10; failed 07, 09; active none. */
  world_add(&w, T("2026-03-10T08:00:00Z"), 0, PL_RUN_SUCCEEDED, now - 500);
  world_add(&w, T("2026-03-10T05:00:00Z"), 0, PL_RUN_SUCCEEDED, now - 900);
  world_add(&w, T("2026-03-10T07:00:00Z"), 0, PL_RUN_FAILED, now - 600);
  world_add(&w, T("2026-03-10T10:00:00Z"), 0, PL_RUN_SUCCEEDED, now - 100);
  world_add(&w, T("2026-03-10T06:00:00Z"), 0, PL_RUN_SUCCEEDED, now - 800);
  world_add(&w, T("2026-03-10T09:00:00Z"), 0, PL_RUN_FAILED, now - 300);
  pl_sched_in in = {&s, now, T("2026-03-10T01:00:00Z"), w.watermark, w.runs, w.n};
  pl_sched_out o;
  pl_schedule_decide(&in, &o);
  char deleted[256] = "";
  for (size_t k = 0; k < o.ndel; k++) {
    ck_assert_int_eq(o.del[k].reason, PL_DELETE_HISTORY);
    strcat(deleted, w.runs[o.del[k].run].name);
    strcat(deleted, " ");
  }
  ck_assert_str_eq(deleted, "etl-1773118800 etl-1773122400 etl-1773126000 "); /* 05, 06 (succeeded) and 07 (failed) */
  /* TTL: finished more than 200 s ago go now; the next expiry wakes the scheduler. */
  s.keep_succeeded = s.keep_failed = 100;
  s.ttl_s = 200;
  pl_schedule_decide(&in, &o);
  ck_assert_uint_eq(o.ndel, 5);
  for (size_t k = 0; k < o.ndel; k++) ck_assert_int_eq(o.del[k].reason, PL_DELETE_TTL);
  ck_assert_int_eq(o.wakeup, now - 100 + 200);
  sched_free(&s);
}
END_TEST

/* Ticks in a time zone, across daylight saving time, through the scheduler:
 * 02:30 every day in Berlin does not happen on 2026-03-29 (02:00 → 03:00)
 * and happens once on 2026-10-25 (03:00 → 02:00, first occurrence). */
START_TEST(sched_time_zones) {
  pl_schedule s;
  sched_new(&s, "30 2 * * *", "Europe/Berlin");
  s.start = T("2026-03-27T00:00:00Z");
  world w = {0};
  pl_sched_out o;
  world_step(&w, &s, T("2026-03-27T00:00:00Z"), T("2026-03-31T12:00:00Z"), &o);
  ck_assert_uint_eq(o.ncreate, 4);
  ck_assert_int_eq(o.create[0], T("2026-03-27T01:30:00Z")); /* CET, +01:00 */
  ck_assert_int_eq(o.create[1], T("2026-03-28T01:30:00Z"));
  ck_assert_int_eq(o.create[2], T("2026-03-30T00:30:00Z")); /* CEST, +02:00; the 29th has no 02:30 */
  ck_assert_int_eq(o.create[3], T("2026-03-31T00:30:00Z"));
  ck_assert_int_eq(o.next_tick, T("2026-04-01T00:30:00Z"));
  sched_free(&s);
  sched_new(&s, "30 2 * * *", "Europe/Berlin");
  s.start = T("2026-10-24T00:00:00Z");
  world w2 = {0};
  world_step(&w2, &s, T("2026-10-24T00:00:00Z"), T("2026-10-26T12:00:00Z"), &o);
  ck_assert_uint_eq(o.ncreate, 3);
  ck_assert_int_eq(o.create[0], T("2026-10-24T00:30:00Z"));
  ck_assert_int_eq(o.create[1], T("2026-10-25T00:30:00Z")); /* the first 02:30, still CEST */
  ck_assert_int_eq(o.create[2], T("2026-10-26T01:30:00Z"));
  sched_free(&s);
  /* Hourly across the fall-back hour: each wall hour once. */
  sched_new(&s, "@hourly", "America/New_York");
  s.start = T("2026-11-01T04:30:00Z"); /* 00:30 EDT */
  world w3 = {0};
  world_step(&w3, &s, T("2026-11-01T04:30:00Z"), T("2026-11-01T08:30:00Z"), &o);
  /* 01:00 EDT (05:00Z), 01:00 EST (06:00Z) is the same wall time: skipped, 02:00 EST (07:00Z), 03:00 EST (08:00Z). */
  ck_assert_uint_eq(o.ncreate, 3);
  ck_assert_int_eq(o.create[0], T("2026-11-01T05:00:00Z"));
  ck_assert_int_eq(o.create[1], T("2026-11-01T07:00:00Z"));
  ck_assert_int_eq(o.create[2], T("2026-11-01T08:00:00Z"));
  sched_free(&s);
  /* Asia/Shanghai has no DST: 09:00 local is 01:00Z every day. */
  sched_new(&s, "0 9 * * 1-5", "Asia/Shanghai");
  s.start = T("2026-03-06T00:00:00Z"); /* a Friday */
  world w4 = {0};
  world_step(&w4, &s, T("2026-03-06T00:00:00Z"), T("2026-03-10T12:00:00Z"), &o);
  ck_assert_uint_eq(o.ncreate, 3); /* Fri, Mon, Tue */
  ck_assert_int_eq(o.create[0], T("2026-03-06T01:00:00Z"));
  ck_assert_int_eq(o.create[1], T("2026-03-09T01:00:00Z"));
  ck_assert_int_eq(o.create[2], T("2026-03-10T01:00:00Z"));
  sched_free(&s);
}
END_TEST

/* More due ticks than one decision handles: a batch, then at once the next. */
START_TEST(sched_batches) {
  pl_schedule s;
  sched_new(&s, "* * * * *", "UTC");
  s.start = T("2026-03-10T00:00:00Z");
  world *w = calloc(1, sizeof(world));
  pl_sched_out o;
  int64_t now = T("2026-03-10T06:00:00Z");
  pl_sched_in in = {&s, now, now, 0, NULL, 0};
  pl_schedule_decide(&in, &o);
  ck_assert_uint_eq(o.ncreate, PL_SCHED_BATCH);
  ck_assert_int_eq(o.wakeup, now);
  ck_assert_int_eq(o.watermark, T("2026-03-10T00:00:00Z") + 60 * (PL_SCHED_BATCH - 1));
  in.watermark = o.watermark;
  pl_schedule_decide(&in, &o);
  ck_assert_int_eq(o.create[0], T("2026-03-10T00:00:00Z") + 60 * PL_SCHED_BATCH);
  free(w);
  sched_free(&s);
}
END_TEST

/* ========================================================= executor */

typedef struct dagrun {
  json_t *doc; /* the spec's JSON: the parsed spec borrows from it */
  pl_spec s;
  pl_node nodes[PL_MAX_TASKS];
  int when_result[PL_MAX_TASKS]; /* per task: 1 run, 0 skip, -1 error */
} dagrun;

static int test_when(size_t task, void *arg, char *why, size_t len) {
  dagrun *d = arg;
  if (d->when_result[task] < 0) {
    snprintf(why, len, "tasks.x.outputs.y (\"high\") is not a number");
    return CUBIT_EINVAL;
  }
  return d->when_result[task];
}

static void dag_load(dagrun *d, const char *spec) {
  memset(d, 0, sizeof(*d));
  json_t *j = J(spec);
  char err[600] = "";
  ck_assert_msg(pl_spec_parse(j, &d->s, err, sizeof(err)) == 0, "%s", err);
  d->doc = j;
  for (size_t i = 0; i < d->s.ntasks; i++) {
    d->nodes[i].first_attempt = 1;
    d->when_result[i] = 1;
  }
}

static void dag_free(dagrun *d) {
  pl_spec_free(&d->s);
  json_decref(d->doc);
}

static pl_node *node(dagrun *d, const char *task) {
  int i = pl_spec_task(&d->s, task);
  ck_assert_int_ge(i, 0);
  return &d->nodes[i];
}

static void step(dagrun *d, int64_t now, pl_step_out *o) {
  pl_dag_step(&d->s, d->nodes, now, test_when, d, o);
}

/* The current attempt's TrainingJob, as the cache would show it next. */
static void job(dagrun *d, const char *task, pl_job_state state, int64_t at) {
  pl_node *n = node(d, task);
  n->job = state;
  if (state == PL_JOB_ACTIVE) n->job_created = at;
  if (state == PL_JOB_SUCCEEDED || state == PL_JOB_FAILED) n->job_finished = at;
  if (state == PL_JOB_FAILED) snprintf(n->job_message, sizeof(n->job_message), "exit code 1");
}

/* Which tasks the step decided to create, in order: "a,b". */
static void created(dagrun *d, char *out, size_t len) {
  out[0] = '\0';
  for (size_t k = 0; k < d->s.ntasks; k++) {
    size_t i = d->s.order[k];
    if (d->nodes[i].action != PL_ACT_CREATE) continue;
    if (out[0]) strncat(out, ",", len - strlen(out) - 1);
    strncat(out, d->s.tasks[i].name, len - strlen(out) - 1);
  }
}

static const char *dag_diamond = "{'tasks':[{'name':'a','templateRef':{'name':'t'}},"
                                 "{'name':'b','templateRef':{'name':'t'},'dependsOn':['a']},"
                                 "{'name':'c','templateRef':{'name':'t'},'dependsOn':['a']},"
                                 "{'name':'d','templateRef':{'name':'t'},'dependsOn':['b','c']}]%s}";

static void diamond_with(dagrun *d, const char *extra) {
  char spec[2048];
  snprintf(spec, sizeof(spec), dag_diamond, extra);
  dag_load(d, spec);
}

START_TEST(step_diamond_order) {
  dagrun d;
  diamond_with(&d, "");
  pl_step_out o;
  char made[64];
  step(&d, 100, &o);
  created(&d, made, sizeof(made));
  ck_assert_str_eq(made, "a");
  ck_assert_int_eq(o.run_phase, PL_RUNNING);
  ck_assert_int_eq(node(&d, "a")->attempts, 1);
  /* The cache does not show a's TrainingJob yet: it is created again (idempotent by name). */
  step(&d, 101, &o);
  created(&d, made, sizeof(made));
  ck_assert_str_eq(made, "a");
  ck_assert_int_eq(node(&d, "a")->attempts, 1);
  job(&d, "a", PL_JOB_ACTIVE, 101);
  step(&d, 102, &o);
  created(&d, made, sizeof(made));
  ck_assert_str_eq(made, "");
  job(&d, "a", PL_JOB_SUCCEEDED, 110);
  step(&d, 111, &o);
  created(&d, made, sizeof(made));
  ck_assert_str_eq(made, "b,c");
  ck_assert_int_eq(node(&d, "a")->phase, PL_SUCCEEDED);
  ck_assert_int_eq(node(&d, "a")->finish, 110);
  ck_assert_uint_eq(o.done, 1);
  job(&d, "b", PL_JOB_SUCCEEDED, 120);
  job(&d, "c", PL_JOB_ACTIVE, 112);
  step(&d, 121, &o);
  created(&d, made, sizeof(made));
  ck_assert_str_eq(made, ""); /* d waits for c */
  job(&d, "c", PL_JOB_SUCCEEDED, 125);
  step(&d, 126, &o);
  created(&d, made, sizeof(made));
  ck_assert_str_eq(made, "d");
  job(&d, "d", PL_JOB_SUCCEEDED, 130);
  step(&d, 131, &o);
  ck_assert_int_eq(o.run_phase, PL_SUCCEEDED);
  ck_assert_uint_eq(o.done, 4);
  ck_assert_uint_eq(o.total, 4);
  dag_free(&d);
}
END_TEST

START_TEST(step_outputs_pending) {
  dagrun d;
  diamond_with(&d, "");
  pl_step_out o;
  step(&d, 100, &o);
  job(&d, "a", PL_JOB_SUCCEEDED, 110);
  node(&d, "a")->outputs_pending = 1;
  step(&d, 111, &o);
  char made[64];
  created(&d, made, sizeof(made));
  ck_assert_str_eq(made, "");
  ck_assert_int_eq(node(&d, "a")->phase, PL_RUNNING);
  ck_assert_str_eq(node(&d, "a")->message, "attempt 1 succeeded; reading its outputs");
  dag_free(&d);
}
END_TEST

START_TEST(step_parallelism) {
  dagrun d;
  diamond_with(&d, ",'parallelism':1");
  pl_step_out o;
  char made[64];
  step(&d, 100, &o);
  job(&d, "a", PL_JOB_SUCCEEDED, 110);
  step(&d, 111, &o);
  created(&d, made, sizeof(made));
  ck_assert_str_eq(made, "b");
  ck_assert_str_eq(node(&d, "c")->message, "waiting: 1 tasks already run (parallelism)");
  job(&d, "b", PL_JOB_SUCCEEDED, 120);
  step(&d, 121, &o);
  created(&d, made, sizeof(made));
  ck_assert_str_eq(made, "c");
  dag_free(&d);
}
END_TEST

START_TEST(step_retries_then_fail_fast) {
  dagrun d;
  dag_load(&d, "{'tasks':[{'name':'a','templateRef':{'name':'t'},'retries':{'limit':2,'backoffSeconds':10}},"
               "{'name':'b','templateRef':{'name':'t'},'dependsOn':['a']},"
               "{'name':'x','templateRef':{'name':'t'}},"
               "{'name':'y','templateRef':{'name':'t'},'dependsOn':['x']}]}");
  pl_step_out o;
  char made[64];
  step(&d, 100, &o);
  created(&d, made, sizeof(made));
  ck_assert_str_eq(made, "a,x");
  job(&d, "x", PL_JOB_ACTIVE, 100);
  job(&d, "a", PL_JOB_FAILED, 105);
  step(&d, 106, &o);
  pl_node *a = node(&d, "a");
  ck_assert_int_eq(a->phase, PL_RUNNING);
  ck_assert_int_eq(a->retry_at, 115);
  ck_assert_str_eq(a->message, "attempt 1 failed: exit code 1; retry 1 of 2 at +9s");
  ck_assert_int_eq(o.wakeup, 115);
  step(&d, 110, &o); /* still waiting */
  created(&d, made, sizeof(made));
  ck_assert_str_eq(made, "");
  step(&d, 115, &o);
  created(&d, made, sizeof(made));
  ck_assert_str_eq(made, "a");
  ck_assert_int_eq(a->attempts, 2);
  job(&d, "a", PL_JOB_FAILED, 120);
  step(&d, 120, &o);
  ck_assert_int_eq(a->retry_at, 130);
  step(&d, 131, &o);
  ck_assert_int_eq(a->attempts, 3);
  job(&d, "a", PL_JOB_FAILED, 140);
  step(&d, 141, &o);
  ck_assert_int_eq(a->phase, PL_FAILED);
  ck_assert_str_eq(a->message, "failed after 3 attempts: exit code 1");
  /* FailFast: b (downstream) and y (not started) are omitted; x, running, finishes. */
  ck_assert_int_eq(node(&d, "b")->phase, PL_OMITTED);
  ck_assert_int_eq(node(&d, "y")->phase, PL_OMITTED);
  ck_assert_str_eq(node(&d, "y")->message, "not started: task a failed (failurePolicy FailFast)");
  ck_assert_int_eq(node(&d, "x")->phase, PL_RUNNING);
  ck_assert_int_eq(o.run_phase, PL_RUNNING);
  job(&d, "x", PL_JOB_SUCCEEDED, 150);
  step(&d, 151, &o);
  ck_assert_int_eq(node(&d, "x")->phase, PL_SUCCEEDED);
  ck_assert_int_eq(o.run_phase, PL_FAILED);
  ck_assert_str_eq(o.message, "task a failed: failed after 3 attempts: exit code 1");
  dag_free(&d);
}
END_TEST

START_TEST(step_continue) {
  dagrun d;
  dag_load(&d, "{'failurePolicy':'Continue','tasks':[{'name':'a','templateRef':{'name':'t'}},"
               "{'name':'b','templateRef':{'name':'t'},'dependsOn':['a']},"
               "{'name':'c','templateRef':{'name':'t'},'dependsOn':['b']},"
               "{'name':'x','templateRef':{'name':'t'}},"
               "{'name':'y','templateRef':{'name':'t'},'dependsOn':['x']}]}");
  pl_step_out o;
  char made[64];
  step(&d, 100, &o);
  job(&d, "x", PL_JOB_ACTIVE, 100);
  job(&d, "a", PL_JOB_FAILED, 105);
  step(&d, 106, &o);
  ck_assert_int_eq(node(&d, "a")->phase, PL_FAILED);
  ck_assert_str_eq(node(&d, "a")->message, "exit code 1");
  ck_assert_int_eq(node(&d, "b")->phase, PL_OMITTED);
  ck_assert_str_eq(node(&d, "b")->message, "not started: its dependency a failed");
  ck_assert_int_eq(node(&d, "c")->phase, PL_OMITTED);
  ck_assert_str_eq(node(&d, "c")->message, "not started: its dependency b was not run");
  ck_assert_int_eq(node(&d, "y")->phase, PL_PENDING); /* the independent branch goes on */
  job(&d, "x", PL_JOB_SUCCEEDED, 110);
  step(&d, 111, &o);
  created(&d, made, sizeof(made));
  ck_assert_str_eq(made, "y");
  job(&d, "y", PL_JOB_SUCCEEDED, 120);
  step(&d, 121, &o);
  ck_assert_int_eq(o.run_phase, PL_FAILED);
  ck_assert_uint_eq(o.done, 5);
  dag_free(&d);
}
END_TEST

START_TEST(step_skip_and_when) {
  dagrun d;
  diamond_with(&d, "");
  /* b is skipped (skip: true), c's condition is false: d still runs. */
  d.s.tasks[pl_spec_task(&d.s, "b")].skip = 1;
  json_t *j = NULL;
  (void)j;
  pl_when *w = NULL;
  char err[200];
  ck_assert_int_eq(pl_when_parse("params.x == 1", &w, err, sizeof(err)), 0);
  pl_task *c = &d.s.tasks[pl_spec_task(&d.s, "c")];
  c->when = w;
  c->when_src = "params.x == 1";
  d.when_result[pl_spec_task(&d.s, "c")] = 0;
  pl_step_out o;
  char made[64];
  step(&d, 100, &o);
  job(&d, "a", PL_JOB_SUCCEEDED, 110);
  step(&d, 111, &o);
  ck_assert_int_eq(node(&d, "b")->phase, PL_SKIPPED);
  ck_assert_str_eq(node(&d, "b")->message, "skipped: skip is true");
  ck_assert_int_eq(node(&d, "c")->phase, PL_SKIPPED);
  ck_assert_str_eq(node(&d, "c")->message, "skipped: when (params.x == 1) is false");
  created(&d, made, sizeof(made));
  ck_assert_str_eq(made, "d");
  job(&d, "d", PL_JOB_SUCCEEDED, 120);
  step(&d, 121, &o);
  ck_assert_int_eq(o.run_phase, PL_SUCCEEDED);
  /* A condition that cannot be evaluated fails the task. */
  dagrun e;
  diamond_with(&e, "");
  pl_when *w2 = NULL;
  ck_assert_int_eq(pl_when_parse("params.x == 1", &w2, err, sizeof(err)), 0);
  e.s.tasks[pl_spec_task(&e.s, "c")].when = w2;
  e.when_result[pl_spec_task(&e.s, "c")] = -1;
  step(&e, 100, &o);
  job(&e, "a", PL_JOB_SUCCEEDED, 110);
  step(&e, 111, &o);
  ck_assert_int_eq(node(&e, "c")->phase, PL_FAILED);
  ck_assert_str_eq(node(&e, "c")->message, "when: tasks.x.outputs.y (\"high\") is not a number");
  ck_assert_int_eq(node(&e, "d")->phase, PL_OMITTED);
  dag_free(&e);
  dag_free(&d);
}
END_TEST

START_TEST(step_timeout) {
  dagrun d;
  dag_load(&d, "{'tasks':[{'name':'a','templateRef':{'name':'t'},'timeoutSeconds':30,"
               "'retries':{'limit':1,'backoffSeconds':5}}]}");
  pl_step_out o;
  step(&d, 100, &o);
  job(&d, "a", PL_JOB_ACTIVE, 101);
  step(&d, 120, &o);
  ck_assert_int_eq(o.wakeup, 131);
  ck_assert_int_eq(node(&d, "a")->action, PL_ACT_NONE);
  step(&d, 131, &o);
  pl_node *a = node(&d, "a");
  ck_assert_int_eq(a->action, PL_ACT_STOP);
  ck_assert_int_eq(a->phase, PL_RUNNING);
  ck_assert_int_eq(a->retry_at, 136);
  ck_assert_str_eq(a->message, "attempt 1 failed: timed out after 30s (timeoutSeconds); retry 1 of 1 at +5s");
  step(&d, 136, &o);
  ck_assert_int_eq(a->action, PL_ACT_CREATE);
  ck_assert_int_eq(a->attempts, 2);
  job(&d, "a", PL_JOB_ACTIVE, 137);
  step(&d, 170, &o);
  ck_assert_int_eq(a->action, PL_ACT_STOP);
  ck_assert_int_eq(a->phase, PL_FAILED);
  ck_assert_str_eq(a->message, "failed after 2 attempts: timed out after 30s (timeoutSeconds)");
  ck_assert_int_eq(o.run_phase, PL_FAILED);
  dag_free(&d);
}
END_TEST

START_TEST(step_retry_from_failure) {
  dagrun d;
  dag_load(&d, "{'failurePolicy':'Continue','tasks':[{'name':'a','templateRef':{'name':'t'},"
               "'retries':{'limit':1,'backoffSeconds':0}},"
               "{'name':'b','templateRef':{'name':'t'},'dependsOn':['a']},"
               "{'name':'x','templateRef':{'name':'t'}}]}");
  pl_step_out o;
  step(&d, 100, &o);
  job(&d, "x", PL_JOB_SUCCEEDED, 105);
  job(&d, "a", PL_JOB_FAILED, 105);
  step(&d, 106, &o);
  step(&d, 106, &o); /* backoff 0: attempt 2 */
  ck_assert_int_eq(node(&d, "a")->attempts, 2);
  job(&d, "a", PL_JOB_FAILED, 110);
  step(&d, 111, &o);
  ck_assert_int_eq(o.run_phase, PL_FAILED);
  ck_assert_int_eq(node(&d, "b")->phase, PL_OMITTED);
  /* Retry: a and b again, x kept; a gets a fresh budget from attempt 3. */
  ck_assert_uint_eq(pl_dag_retry(&d.s, d.nodes), 2);
  ck_assert_int_eq(node(&d, "x")->phase, PL_SUCCEEDED);
  ck_assert_int_eq(node(&d, "a")->phase, PL_PENDING);
  ck_assert_int_eq(node(&d, "a")->first_attempt, 3);
  step(&d, 200, &o);
  char made[64];
  created(&d, made, sizeof(made));
  ck_assert_str_eq(made, "a");
  ck_assert_int_eq(node(&d, "a")->attempts, 3);
  job(&d, "a", PL_JOB_FAILED, 205);
  step(&d, 206, &o);
  ck_assert_int_eq(node(&d, "a")->phase, PL_RUNNING); /* one retry in this round too */
  step(&d, 206, &o);
  ck_assert_int_eq(node(&d, "a")->attempts, 4);
  job(&d, "a", PL_JOB_SUCCEEDED, 210);
  step(&d, 211, &o);
  created(&d, made, sizeof(made));
  ck_assert_str_eq(made, "b");
  job(&d, "b", PL_JOB_SUCCEEDED, 220);
  step(&d, 221, &o);
  ck_assert_int_eq(o.run_phase, PL_SUCCEEDED);
  dag_free(&d);
}
END_TEST

/* Stop and resume: a running attempt is interrupted without using a
 * retry, a finished one is judged, nothing starts while stopped, and on
 * resume the next attempt runs. */
START_TEST(step_stop_and_resume) {
  dagrun d;
  dag_load(&d, "{'tasks':[{'name':'a','templateRef':{'name':'t'},'retries':{'limit':1,'backoffSeconds':0}},"
               "{'name':'b','templateRef':{'name':'t'}},{'name':'c','templateRef':{'name':'t'},'dependsOn':['a','b']}]}");
  pl_step_out o;
  step(&d, 100, &o);
  job(&d, "a", PL_JOB_ACTIVE, 100);
  job(&d, "b", PL_JOB_SUCCEEDED, 110);
  pl_dag_stop(&d.s, d.nodes, 120, &o);
  ck_assert_int_eq(node(&d, "a")->phase, PL_PENDING);
  ck_assert_int_eq(node(&d, "a")->attempts, 1);
  ck_assert_int_eq(node(&d, "a")->stopped_attempts, 1);
  ck_assert_str_eq(node(&d, "a")->message, "attempt 1 stopped; stopped with the run: attempt 2 starts when it is resumed");
  ck_assert_int_eq(node(&d, "b")->phase, PL_SUCCEEDED);
  ck_assert_int_eq(node(&d, "c")->phase, PL_PENDING);
  ck_assert_uint_eq(o.done, 1);
  ck_assert_uint_eq(o.total, 3);
  ck_assert_int_eq(o.wakeup, 0);
  char made[64];
  created(&d, made, sizeof(made));
  ck_assert_str_eq(made, "");
  /* A second look while stopped changes nothing. */
  pl_dag_stop(&d.s, d.nodes, 130, &o);
  ck_assert_int_eq(node(&d, "a")->stopped_attempts, 1);
  /* Resumed: a's attempt 2, b kept. */
  step(&d, 200, &o);
  created(&d, made, sizeof(made));
  ck_assert_str_eq(made, "a");
  ck_assert_int_eq(node(&d, "a")->attempts, 2);
  ck_assert_int_eq(node(&d, "b")->phase, PL_SUCCEEDED);
  /* The stopped attempt used no retry: one failure is still retried. */
  job(&d, "a", PL_JOB_FAILED, 205);
  step(&d, 206, &o);
  ck_assert_int_eq(node(&d, "a")->phase, PL_RUNNING);
  ck_assert_int_ne(node(&d, "a")->retry_at, 0);
  /* Stopped while waiting for that retry: the failure counts; resume starts
   * attempt 3, the last of the budget. */
  pl_dag_stop(&d.s, d.nodes, 207, &o);
  ck_assert_int_eq(node(&d, "a")->phase, PL_PENDING);
  ck_assert_int_eq(node(&d, "a")->retry_at, 0);
  ck_assert_int_eq(node(&d, "a")->stopped_attempts, 1);
  step(&d, 300, &o);
  ck_assert_int_eq(node(&d, "a")->attempts, 3);
  job(&d, "a", PL_JOB_FAILED, 305);
  step(&d, 306, &o);
  ck_assert_int_eq(node(&d, "a")->phase, PL_FAILED);
  ck_assert_str_eq(node(&d, "a")->message, "failed after 2 attempts: exit code 1");
  ck_assert_int_eq(node(&d, "c")->phase, PL_OMITTED);
  ck_assert_int_eq(o.run_phase, PL_FAILED);
  dag_free(&d);
}
END_TEST

/* Retry from b in a diamond: b and d again (whatever their phase), a and c
 * kept; b's new round starts at its next attempt. */
START_TEST(step_retry_from_task) {
  dagrun d;
  diamond_with(&d, "");
  pl_step_out o;
  step(&d, 100, &o);
  job(&d, "a", PL_JOB_SUCCEEDED, 105);
  step(&d, 106, &o);
  job(&d, "b", PL_JOB_SUCCEEDED, 110);
  job(&d, "c", PL_JOB_FAILED, 110);
  step(&d, 111, &o);
  ck_assert_int_eq(o.run_phase, PL_FAILED);
  ck_assert_int_eq(node(&d, "d")->phase, PL_OMITTED);
  int reset[PL_MAX_TASKS];
  ck_assert_uint_eq(pl_dag_retry_from(&d.s, d.nodes, (size_t)pl_spec_task(&d.s, "b"), reset), 2);
  ck_assert_int_eq(node(&d, "a")->phase, PL_SUCCEEDED);
  ck_assert_int_eq(node(&d, "c")->phase, PL_FAILED); /* not downstream of b */
  ck_assert_int_eq(node(&d, "b")->phase, PL_PENDING);
  ck_assert_int_eq(node(&d, "b")->first_attempt, 2);
  ck_assert_int_eq(node(&d, "d")->phase, PL_PENDING);
  ck_assert_str_eq(node(&d, "d")->message, "retrying from task b (cubit.dev/retry-from)");
  ck_assert(reset[pl_spec_task(&d.s, "b")] && reset[pl_spec_task(&d.s, "d")]);
  ck_assert(!reset[pl_spec_task(&d.s, "a")] && !reset[pl_spec_task(&d.s, "c")]);
  /* With c failed, FailFast omits b's round at once: a retry from b is for
   * when c is fine; from c, c and d run again. */
  ck_assert_uint_eq(pl_dag_retry_from(&d.s, d.nodes, (size_t)pl_spec_task(&d.s, "c"), reset), 2);
  step(&d, 200, &o);
  char made[64];
  created(&d, made, sizeof(made));
  ck_assert_str_eq(made, "b,c");
  ck_assert_int_eq(node(&d, "b")->attempts, 2);
  ck_assert_int_eq(node(&d, "c")->attempts, 2);
  dag_free(&d);
}
END_TEST

/* Stopped after an attempt failed with no retry left: the task fails, as
 * it would have without the stop. */
START_TEST(step_stop_judges_finished) {
  dagrun d;
  dag_load(&d, "{'tasks':[{'name':'a','templateRef':{'name':'t'}}]}");
  pl_step_out o;
  step(&d, 100, &o);
  job(&d, "a", PL_JOB_FAILED, 105);
  pl_dag_stop(&d.s, d.nodes, 110, &o);
  ck_assert_int_eq(node(&d, "a")->phase, PL_FAILED);
  ck_assert_int_eq(node(&d, "a")->stopped_attempts, 0);
  ck_assert_uint_eq(o.done, 1);
  dag_free(&d);
}
END_TEST

/* ============================================================ tasks */

static int dns_label(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-') return 0;
  for (size_t i = 0; i < n; i++)
    if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-')) return 0;
  return 1;
}

START_TEST(task_job_names) {
  char name[64], again[64], other[64];
  pl_task_job_name("etl-1773118800", "train", 2, name, sizeof(name));
  ck_assert_str_eq(name, "etl-1773118800-train-2");
  /* Too long: a prefix and a hash of the whole name, stable and distinct. */
  const char *run = "a-very-long-pipeline-name-for-the-nightly-etl-1773118800";
  pl_task_job_name(run, "preprocess-the-dataset", 1, name, sizeof(name));
  pl_task_job_name(run, "preprocess-the-dataset", 1, again, sizeof(again));
  pl_task_job_name(run, "preprocess-the-dataset", 2, other, sizeof(other));
  ck_assert_str_eq(name, again);
  ck_assert_str_ne(name, other);
  ck_assert_uint_le(strlen(name), PL_MAX_CHILD_NAME);
  ck_assert(dns_label(name));
  ck_assert(strncmp(name, "a-very-long-pipeline-name-for-the-nightly-etl", 20) == 0);
  /* A prefix that ends in '-' loses it. */
  pl_task_job_name("x-----------------------------------------------------------", "t", 1, name, sizeof(name));
  ck_assert(dns_label(name));
}
END_TEST

static const json_t *task_values(const pl_ref *ref, void *arg, char *err, size_t errlen) {
  json_t *values = arg;
  char key[200];
  if (ref->kind == PL_REF_PARAM) snprintf(key, sizeof(key), "%s", ref->name);
  else pl_ref_format(ref, key, sizeof(key));
  json_t *v = json_object_get(values, key);
  if (v == NULL) snprintf(err, errlen, "not set");
  return v;
}

/* The default sub-path of a claim work volume: one folder per run. */
START_TEST(task_work_mount_default) {
  json_t *spec = J("{'tasks':[{'name':'a','templateRef':{'name':'t'}}],'workVolume':{'claimName':'team'}}");
  pl_spec s;
  char err[600] = "";
  ck_assert_msg(pl_spec_parse(spec, &s, err, sizeof(err)) == 0, "%s", err);
  pl_work_mount m;
  pl_work_mount_of(&s.work, "etl-1767225600", &m);
  ck_assert_str_eq(m.claim, "team");
  ck_assert_str_eq(m.sub_path, "pipelines/etl-1767225600");
  ck_assert_str_eq(m.mount_path, "/cubit/work");
  pl_spec_free(&s);
  json_decref(spec);
}
END_TEST

START_TEST(task_trainingjob) {
  json_t *run = J("{'apiVersion':'cubit.dev/v1alpha1','kind':'PipelineRun','metadata':{'name':'etl-1','namespace':'ml',"
                  "'uid':'run-uid','annotations':{'cubit.dev/user':'alice'}},'spec':{'pipelineRef':{'name':'etl'}}}");
  json_t *tspec = J("{'parameters':[{'name':'workers','type':'int','default':2},{'name':'data'}],"
                    "'outputs':[{'name':'model','path':'out/model.txt'}],"
                    "'workload':{'framework':'batch','image':'trainer:1','args':['--data={{params.data}}',"
                    "'--day={{run.scheduledTime}}','--prev={{tasks.prep.outputs.rows}}'],"
                    "'env':[{'name':'CUBIT_TASK','value':'mine'}],"
                    "'roles':{'main':{'replicas':'{{params.workers}}','resources':{'cpu':'1','memory':'1Gi'}}}}}");
  pl_template tm;
  char err[600] = "";
  ck_assert_msg(pl_template_parse(tspec, &tm, err, sizeof(err)) == 0, "%s", err);
  json_t *spec = J("{'tasks':[{'name':'train','templateRef':{'name':'t'},'resources':{'gpu':'1','memory':'8Gi'}}],"
                   "'workVolume':{'claimName':'team','subPath':'runs/{{run.name}}','mountPath':'/work'}}");
  pl_spec s;
  ck_assert_msg(pl_spec_parse(spec, &s, err, sizeof(err)) == 0, "%s", err);
  pl_work_mount m;
  pl_work_mount_of(&s.work, "etl-1", &m);
  json_t *values = J("{'workers':3,'data':'s3://d','run.scheduledTime':'2026-03-10T05:00:00Z',"
                     "'tasks.prep.outputs.rows':'1200'}");
  pl_task_input in = {run, &s.tasks[0], &tm, values, &m, 2, task_values, values, NULL};
  json_t *tj = NULL;
  ck_assert_msg(pl_task_trainingjob(&in, &tj, err, sizeof(err)) == 0, "%s", err);
  ck_assert_str_eq(js_name(tj), "etl-1-train-2");
  ck_assert_str_eq(js_namespace(tj), "ml");
  json_t *labels = js_get(tj, "metadata.labels");
  ck_assert_str_eq(json_string_value(json_object_get(labels, "cubit.dev/pipelinerun")), "etl-1");
  ck_assert_str_eq(json_string_value(json_object_get(labels, "cubit.dev/task")), "train");
  ck_assert_str_eq(json_string_value(json_object_get(labels, "cubit.dev/attempt")), "2");
  ck_assert_str_eq(json_string_value(json_object_get(labels, "cubit.dev/pipeline")), "etl");
  ck_assert_str_eq(json_string_value(json_object_get(js_get(tj, "metadata.annotations"), "cubit.dev/user")), "alice");
  json_t *owner = json_array_get(js_get(tj, "metadata.ownerReferences"), 0);
  ck_assert_str_eq(js_str(owner, "kind"), "PipelineRun");
  ck_assert_str_eq(js_str(owner, "uid"), "run-uid");
  ck_assert(js_bool(owner, "controller", 0));
  /* The integer parameter became an integer; strings were spliced. */
  ck_assert_int_eq(js_int(tj, "spec.roles.main.replicas", 0), 3);
  json_t *args = js_get(tj, "spec.args");
  ck_assert_str_eq(json_string_value(json_array_get(args, 0)), "--data=s3://d");
  ck_assert_str_eq(json_string_value(json_array_get(args, 1)), "--day=2026-03-10T05:00:00Z");
  ck_assert_str_eq(json_string_value(json_array_get(args, 2)), "--prev=1200");
  /* The task's resources win over the template's, key by key. */
  json_t *res = js_get(tj, "spec.roles.main.resources");
  ck_assert_str_eq(js_str(res, "cpu"), "1");
  ck_assert_str_eq(js_str(res, "memory"), "8Gi");
  ck_assert_str_eq(js_str(res, "gpu"), "1");
  /* The work volume, and where outputs go; the workload's own CUBIT_TASK comes last and wins. */
  json_t *vol = json_array_get(js_get(tj, "spec.volumes"), 0);
  ck_assert_str_eq(js_str(vol, "claimName"), "team");
  ck_assert_str_eq(js_str(vol, "subPath"), "runs/etl-1");
  ck_assert_str_eq(js_str(vol, "mountPath"), "/work");
  json_t *env = js_get(tj, "spec.env");
  const char *want[][2] = {{"CUBIT_PIPELINE_RUN", "etl-1"}, {"CUBIT_TASK", "train"}, {"CUBIT_ATTEMPT", "2"},
                           {"CUBIT_WORK_DIR", "/work"}, {"CUBIT_OUTPUTS_DIR", "/work/outputs/train"},
                           {"CUBIT_OUTPUT_model", "/work/outputs/train/out/model.txt"}, {"CUBIT_TASK", "mine"}};
  ck_assert_uint_eq(json_array_size(env), 7);
  for (size_t k = 0; k < 7; k++) {
    ck_assert_str_eq(js_str(json_array_get(env, k), "name"), want[k][0]);
    ck_assert_str_eq(js_str(json_array_get(env, k), "value"), want[k][1]);
  }
  /* Sharing the run's work volume (in the hub), the task runs in the hub. */
  ck_assert_str_eq(js_str(tj, "spec.cluster"), "local");
  json_decref(tj);
  /* A workload pinned to a member cannot share the work volume. */
  json_object_set_new(json_object_get(tspec, "workload"), "cluster", json_string("gpu-east"));
  ck_assert_int_eq(pl_task_trainingjob(&in, &tj, err, sizeof(err)), CUBIT_EINVAL);
  ck_assert_str_eq(err, "spec.workload.cluster: gpu-east: a task that shares the run's work volume runs in the hub, "
                        "where the volume is (\"local\" or unset; or place the run on gpu-east with its spec.cluster)");
  /* A run placed as a whole on gpu-east: its tasks are pinned there, with
   * the work volume (made there); a workload naming that cluster agrees. */
  in.cluster = "gpu-east";
  ck_assert_msg(pl_task_trainingjob(&in, &tj, err, sizeof(err)) == 0, "%s", err);
  ck_assert_str_eq(js_str(tj, "spec.cluster"), "gpu-east");
  ck_assert_str_eq(js_str(json_array_get(js_get(tj, "spec.volumes"), 0), "claimName"), "team");
  json_decref(tj);
  /* ... one naming another cluster is refused, naming the field. */
  json_object_set_new(json_object_get(tspec, "workload"), "cluster", json_string("gpu-west"));
  ck_assert_int_eq(pl_task_trainingjob(&in, &tj, err, sizeof(err)), CUBIT_EINVAL);
  ck_assert_str_eq(err, "spec.workload.cluster: gpu-west: the run is placed on cluster gpu-east, where its tasks run");
  /* ... and a workload's own placement policy yields to the run's cluster. */
  json_object_del(json_object_get(tspec, "workload"), "cluster");
  json_object_set_new(json_object_get(tspec, "workload"), "placement", J("{'policy':'MostFreeGPUs'}"));
  ck_assert_msg(pl_task_trainingjob(&in, &tj, err, sizeof(err)) == 0, "%s", err);
  ck_assert_str_eq(js_str(tj, "spec.cluster"), "gpu-east");
  ck_assert_ptr_null(js_get(tj, "spec.placement"));
  json_decref(tj);
  json_object_del(json_object_get(tspec, "workload"), "placement");
  json_object_set_new(json_object_get(tspec, "workload"), "cluster", json_string("gpu-east"));
  in.cluster = NULL;
  /* Without a work volume it is placed as the workload says. */
  pl_work_mount none = {0};
  in.work = &none;
  ck_assert_msg(pl_task_trainingjob(&in, &tj, err, sizeof(err)) == 0, "%s", err);
  ck_assert_str_eq(js_str(tj, "spec.cluster"), "gpu-east");
  json_decref(tj);
  in.work = &m;
  json_object_del(json_object_get(tspec, "workload"), "cluster");
  /* A substituted workload that is no TrainingJob spec is refused. */
  json_object_set_new(values, "workers", json_integer(0));
  ck_assert_int_eq(pl_task_trainingjob(&in, &tj, err, sizeof(err)), CUBIT_EINVAL);
  ck_assert_str_eq(err, "the template's workload is no valid TrainingJob spec: spec.workload.roles.main.replicas: want "
                        "an integer of at least 1");
  json_decref(values);
  pl_spec_free(&s);
  json_decref(spec);
  pl_template_free(&tm);
  json_decref(tspec);
  json_decref(run);
}
END_TEST

/* The reader's script, run by sh over real files, then parsed back. */
START_TEST(outputs_reader_round_trip) {
  char *dir = testutil_tmpdir();
  char *f1 = testutil_write_file(dir, "model.txt", "s3://bucket/model-7\n");
  char *f2 = testutil_write_file(dir, "report", "line one\nline two: 100% done\n");
  char *f3 = testutil_write_file(dir, "empty", "");
  char *msg = NULL;
  ck_assert_int_gt(asprintf(&msg, "%s/termination-log", dir), 0);
  /* The script writes /dev/termination-log; here, a file of the test's. */
  const char *script = pl_outputs_script();
  char *local = malloc(strlen(script) + strlen(msg) + 1);
  const char *at = strstr(script, "/dev/termination-log");
  ck_assert_ptr_nonnull(at);
  sprintf(local, "%.*s%s%s", (int)(at - script), script, msg, at + strlen("/dev/termination-log"));
  char *missing = NULL;
  ck_assert_int_gt(asprintf(&missing, "%s/nope", dir), 0);
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    execl("/bin/sh", "sh", "-c", local, "sh", "model", f1, "report", f2, "empty", f3, "gone", missing, (char *)NULL);
    _exit(127);
  }
  int wstatus = 0;
  ck_assert_int_eq(waitpid(pid, &wstatus, 0), pid);
  ck_assert(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0);
  FILE *f = fopen(msg, "r");
  ck_assert_ptr_nonnull(f);
  char text[4096];
  size_t n = fread(text, 1, sizeof(text) - 1, f);
  text[n] = '\0';
  fclose(f);
  ck_assert_str_eq(text, "model=s3://bucket/model-7\nreport=line one%0Aline two: 100%25 done\nempty=\n-gone\n");
  json_t *tspec = J("{'outputs':[{'name':'model','path':'model.txt'},{'name':'report','path':'report'},"
                    "{'name':'empty','path':'empty'}],'workload':{'framework':'batch','image':'x','roles':{'main':{}}}}");
  pl_template tm;
  char err[600] = "";
  ck_assert_int_eq(pl_template_parse(tspec, &tm, err, sizeof(err)), 0);
  json_t *values = NULL;
  ck_assert_msg(pl_outputs_parse(text, &tm, "/cubit/work/outputs/t", &values, err, sizeof(err)) == 0, "%s", err);
  json_t *want = J("{'model':'s3://bucket/model-7','report':'line one\\nline two: 100% done','empty':''}");
  ck_assert(json_equal(want, values));
  json_decref(want);
  json_decref(values);
  /* A declared output whose file was missing, or that is not in the message at all. */
  ck_assert_int_eq(pl_outputs_parse("model=x\n-report\nempty=\n", &tm, "/w/outputs/t", &values, err, sizeof(err)),
                   CUBIT_EINVAL);
  ck_assert_str_eq(err, "output report: the task wrote no file /w/outputs/t/report");
  ck_assert_int_eq(pl_outputs_parse("model=x\nempty=", &tm, "/w/outputs/t", &values, err, sizeof(err)), CUBIT_EINVAL);
  ck_assert_str_eq(err, "output report is missing from the outputs reader's message (outputs are read from "
                        "/w/outputs/t/report; at most 4 KiB in all)");
  pl_template_free(&tm);
  json_decref(tspec);
  free(missing);
  free(local);
  free(msg);
  free(f1);
  free(f2);
  free(f3);
  free(dir);
}
END_TEST

START_TEST(outputs_reader_job) {
  json_t *run = J("{'apiVersion':'cubit.dev/v1alpha1','kind':'PipelineRun','metadata':{'name':'etl-1','namespace':'ml',"
                  "'uid':'run-uid','annotations':{'cubit.dev/user':'bob'}}}");
  json_t *tj = J("{'metadata':{'name':'etl-1-train-1'},'spec':{'podMetadata':{'annotations':{'sidecar.istio.io/inject':"
                 "'false'},'labels':{'team':'x'}}}}");
  json_t *tspec = J("{'outputs':[{'name':'model','path':'m.txt'}],'workload':{'framework':'batch','image':'x',"
                    "'roles':{'main':{}}}}");
  pl_template tm;
  char err[300];
  ck_assert_int_eq(pl_template_parse(tspec, &tm, err, sizeof(err)), 0);
  pl_work_mount m = {"etl-1-work", "", "/cubit/work"};
  json_t *job = pl_outputs_reader(run, tj, &tm, &m, "train", "busybox:1.36");
  ck_assert_str_eq(js_name(job), "etl-1-train-1-outputs");
  json_t *c = json_array_get(js_get(job, "spec.template.spec.containers"), 0);
  ck_assert_str_eq(js_str(c, "image"), "busybox:1.36");
  ck_assert_str_eq(js_str(c, "terminationMessagePolicy"), "File");
  json_t *args = json_object_get(c, "args");
  ck_assert_uint_eq(json_array_size(args), 5);
  ck_assert_str_eq(json_string_value(json_array_get(args, 3)), "model");
  ck_assert_str_eq(json_string_value(json_array_get(args, 4)), "/cubit/work/outputs/train/m.txt");
  json_t *ann = js_get(job, "spec.template.metadata.annotations");
  ck_assert_str_eq(json_string_value(json_object_get(ann, "sidecar.istio.io/inject")), "false");
  ck_assert_str_eq(json_string_value(json_object_get(ann, "cubit.dev/user")), "bob");
  ck_assert_str_eq(js_str(job, "spec.template.spec.volumes") ? "" : "ok", "ok");
  ck_assert_str_eq(js_str(json_array_get(js_get(job, "spec.template.spec.volumes"), 0), "persistentVolumeClaim.claimName"),
                   "etl-1-work");
  ck_assert_str_eq(js_str(json_array_get(js_get(job, "metadata.ownerReferences"), 0), "uid"), "run-uid");
  json_decref(job);
  pl_template_free(&tm);
  json_decref(tspec);
  json_decref(tj);
  json_decref(run);
}
END_TEST

/* ============================================================ plans */

/* What a plan says, in words the tables compare. */
typedef struct said {
  const json_t *status;  /* borrowed from the plan */
  char actions[1024];    /* "apply TrainingJob r-a-1, delete PipelineRun x" ("stopped" when so annotated) */
  char events[1024];     /* "Normal TaskStarted, Warning Failed" */
  char messages[4096];   /* the events' messages, one a line */
  int64_t requeue;
} said;

static void add_word(char *out, size_t len, const char *word) {
  if (out[0]) strncat(out, ", ", len - strlen(out) - 1);
  strncat(out, word, len - strlen(out) - 1);
}

static void plan_words(const rt_plan *p, said *w) {
  memset(w, 0, sizeof(*w));
  w->status = p->status;
  w->requeue = p->requeue_after_ms;
  for (size_t i = 0; i < p->nactions; i++) {
    const rt_action *a = &p->actions[i];
    char word[200];
    snprintf(word, sizeof(word), "%s %s %s%s", a->kind == RT_ACT_APPLY ? "apply" : a->kind == RT_ACT_DELETE ? "delete"
                                                                                                           : "finalizer",
             a->resource ? a->resource->kind : "", js_name(a->object),
             json_object_get(js_get(a->object, "metadata.annotations"), PL_STOPPED_ANNOTATION) ? " stopped" : "");
    add_word(w->actions, sizeof(w->actions), word);
  }
  for (size_t i = 0; i < p->nevents; i++) {
    char word[100];
    snprintf(word, sizeof(word), "%s %s", p->events[i].type, p->events[i].reason);
    add_word(w->events, sizeof(w->events), word);
    strncat(w->messages, p->events[i].message, sizeof(w->messages) - strlen(w->messages) - 1);
    strncat(w->messages, "\n", sizeof(w->messages) - strlen(w->messages) - 1);
  }
}

static const char *state_names[] = {"PROGRESSING", "READY", "SUCCEEDED", "FAILED", "SUSPENDED"};

static const char *cond(const json_t *status, const char *type) {
  const json_t *c = rt_condition_get(status, type);
  return c ? js_str(c, "status") : "absent";
}

/* The status says phase and state as docs/status.md's table has them. */
static void assert_state(const json_t *status, const char *phase, const char *state, const char *reason,
                         const char *message) {
  ck_assert_str_eq(js_str(status, "phase"), phase);
  rt_state st = rt_status_state(status);
  ck_assert_str_eq(state_names[st], state);
  static const char *table[][4] = {
      /* Ready, Reconciling, Stalled, Suspended */
      {"False", "True", "False", "absent"}, {"True", "False", "False", "absent"}, {"True", "False", "False", "absent"},
      {"False", "False", "True", "absent"}, {"absent", "False", "False", "True"},
  };
  ck_assert_str_eq(cond(status, "Ready"), table[st][0]);
  ck_assert_str_eq(cond(status, "Reconciling"), table[st][1]);
  ck_assert_str_eq(cond(status, "Stalled"), table[st][2]);
  ck_assert_str_eq(cond(status, "Suspended"), table[st][3]);
  const json_t *c = rt_condition_get(status, "Reconciling");
  ck_assert_str_eq(js_str(c, "reason"), reason);
  ck_assert_str_eq(js_str(c, "message"), message);
  ck_assert_int_eq(js_int(c, "observedGeneration", -1), 3);
  ck_assert_int_eq(js_int(status, "observedGeneration", -1), 3);
}

/* ------------------------------------------------------- PipelineRun */

#define PLAN_NOW "2026-03-01T12:00:00Z"

static const char *tmpl_t = "{'parameters':[{'name':'in','default':'x'}],'workload':{'framework':'batch',"
                            "'image':'busybox','command':['echo','{{params.in}}'],'roles':{'main':{'replicas':1}}}}";

enum { SPEC_AB, SPEC_RETRY, SPEC_TIMEOUT, SPEC_CONTINUE, SPEC_PARAM };
static const char *run_specs[] = {
    [SPEC_AB] = "{'tasks':[{'name':'a','templateRef':{'name':'t'}},{'name':'b','templateRef':{'name':'t'},"
                "'dependsOn':['a']}]}",
    [SPEC_RETRY] = "{'tasks':[{'name':'a','templateRef':{'name':'t'},'retries':{'limit':1,'backoffSeconds':10}},"
                   "{'name':'b','templateRef':{'name':'t'},'dependsOn':['a']}]}",
    [SPEC_TIMEOUT] = "{'tasks':[{'name':'a','templateRef':{'name':'t'},'timeoutSeconds':60},"
                     "{'name':'b','templateRef':{'name':'t'},'dependsOn':['a']}]}",
    [SPEC_CONTINUE] = "{'failurePolicy':'Continue','tasks':[{'name':'a','templateRef':{'name':'t'}},"
                      "{'name':'b','templateRef':{'name':'t'},'dependsOn':['a']},{'name':'c','templateRef':{'name':'t'}}]}",
    [SPEC_PARAM] = "{'parameters':[{'name':'n','type':'int','required':true}],'tasks':[{'name':'a','templateRef':"
                   "{'name':'t'}}]}",
};

/* A TrainingJob of the run r, as the cache shows it. */
#define TJ(name, task, attempt, created, status)                                                                    \
  "{'metadata':{'name':'" name "','namespace':'ml','creationTimestamp':'" created "','labels':{"                     \
  "'cubit.dev/task':'" task "','cubit.dev/attempt':'" attempt "'},'ownerReferences':[{'kind':'PipelineRun',"\
  "'name':'r','uid':'run-uid','controller':true}]},'status':" status "}"
#define QUEUED "{'phase':'Queued','conditions':[{'type':'Ready','status':'False','reason':'Unschedulable','message':"    \
               "'0/4 nodes are available: 4 Insufficient nvidia.com/gpu'}]}"
#define PULLING "{'phase':'Pending','conditions':[{'type':'Ready','status':'False','reason':'ContainerCreating',"        \
                "'message':'pulling busybox'}]}"
#define NO_IMAGE "{'phase':'Pending','conditions':[{'type':'Ready','status':'False','reason':'ErrImagePull',"          \
                 "'message':'pull access denied for busybox'}]}"
#define RUNNING "{'phase':'Running','conditions':[{'type':'Ready','status':'True','reason':'Running','message':'1/1'}]}"
#define DONE "{'phase':'Succeeded','completionTime':'2026-03-01T11:59:50Z'}"
#define FAILED "{'phase':'Failed','reason':'Error','message':'exit code 1','completionTime':'2026-03-01T11:59:55Z'}"

static const struct run_row {
  const char *name;
  int spec;            /* run_specs[] */
  int exists;          /* 0: no Pipeline; 1: the Pipeline; 2: and its template */
  const char *meta;    /* more metadata ("" or ",'annotations':{...}") */
  int started;         /* the status holds the pipeline's copy */
  const char *before;  /* more status: nodes, phase, conditions (JSON members, no braces) */
  const char *tjs;     /* the namespace's TrainingJobs (a JSON array) */
  /* what the plan says */
  const char *phase, *state, *reason, *message;
  const char *nodes;   /* "a=Running/1, b=Pending/0" */
  const char *actions, *events;
  int64_t requeue;
  int stopped;         /* spec.stopped */
} run_rows[] = {
    {"new, no pipeline yet", SPEC_AB, 0, "", 0, "", "[]", "Pending", "PROGRESSING", "PipelineNotFound",
     "waiting for Pipeline etl", "", "", "", 0, 0},
    {"new, no template yet", SPEC_AB, 1, "", 0, "", "[]", "Pending", "PROGRESSING", "TemplateNotFound",
     "waiting for JobTemplate t (task a)", "", "", "", 0, 0},
    {"new, parameters do not fit", SPEC_PARAM, 2, "", 0, "", "[]", "Failed", "FAILED", "InvalidRun",
     "spec.params.n: required (a int parameter without a default)", "", "", "Warning Failed", 0, 0},
    {"new, starts", SPEC_AB, 2, "", 0, "", "[]", "Pending", "PROGRESSING", "Starting",
     "starting task a (TrainingJob r-a-1)", "a=Running/1, b=Pending/0", "apply TrainingJob r-a-1",
     "Normal TaskStarted", 30000, 0},
    {"task pods unschedulable", SPEC_AB, 2, "", 1, "'nodes':{'a':{'phase':'Running','attempts':1}}",
     "[" TJ("r-a-1", "a", "1", "2026-03-01T11:59:00Z", QUEUED) "]", "Queued", "PROGRESSING", "Unschedulable",
     "task a: TrainingJob r-a-1 is Queued: 0/4 nodes are available: 4 Insufficient nvidia.com/gpu",
     "a=Running/1, b=Pending/0", "", "Warning Unschedulable", 30000, 0},
    {"still unschedulable: no second event", SPEC_AB, 2, "", 1,
     "'nodes':{'a':{'phase':'Running','attempts':1}},'phase':'Queued','conditions':[{'type':'Reconciling','status':"
     "'True','reason':'Unschedulable','message':'task a: TrainingJob r-a-1 is Queued: 0/3 nodes'}]",
     "[" TJ("r-a-1", "a", "1", "2026-03-01T11:59:00Z", QUEUED) "]", "Queued", "PROGRESSING", "Unschedulable",
     "task a: TrainingJob r-a-1 is Queued: 0/4 nodes are available: 4 Insufficient nvidia.com/gpu",
     "a=Running/1, b=Pending/0", "", "", 30000, 0},
    {"task image pulling", SPEC_AB, 2, "", 1, "'nodes':{'a':{'phase':'Running','attempts':1}}",
     "[" TJ("r-a-1", "a", "1", "2026-03-01T11:59:00Z", PULLING) "]", "Pending", "PROGRESSING", "ContainerCreating",
     "task a: TrainingJob r-a-1 is Pending: pulling busybox", "a=Running/1, b=Pending/0", "", "", 30000, 0},
    {"task image cannot be pulled", SPEC_AB, 2, "", 1, "'nodes':{'a':{'phase':'Running','attempts':1}}",
     "[" TJ("r-a-1", "a", "1", "2026-03-01T11:59:00Z", NO_IMAGE) "]", "Pending", "PROGRESSING", "ErrImagePull",
     "task a: TrainingJob r-a-1 is Pending: pull access denied for busybox", "a=Running/1, b=Pending/0", "",
     "Warning ErrImagePull", 30000, 0},
    {"running", SPEC_AB, 2, "", 1, "'nodes':{'a':{'phase':'Running','attempts':1}}",
     "[" TJ("r-a-1", "a", "1", "2026-03-01T11:59:00Z", RUNNING) "]", "Running", "PROGRESSING", "Running",
     "running: a", "a=Running/1, b=Pending/0", "", "", 30000, 0},
    {"a succeeded, b starts", SPEC_AB, 2, "", 1, "'nodes':{'a':{'phase':'Running','attempts':1}}",
     "[" TJ("r-a-1", "a", "1", "2026-03-01T11:59:00Z", DONE) "]", "Pending", "PROGRESSING", "Starting",
     "starting task b (TrainingJob r-b-1)", "a=Succeeded/1, b=Running/1", "apply TrainingJob r-b-1",
     "Normal TaskSucceeded, Normal TaskStarted", 30000, 0},
    {"attempt failed, retrying after the backoff", SPEC_RETRY, 2, "", 1,
     "'nodes':{'a':{'phase':'Running','attempts':1}}", "[" TJ("r-a-1", "a", "1", "2026-03-01T11:59:00Z", FAILED) "]",
     "Pending", "PROGRESSING", "Retrying",
     "attempt 1 failed: TrainingJob r-a-1 failed (Error): exit code 1; retry 1 of 1 at +5s", "a=Running/1, b=Pending/0",
     "", "Warning TaskRetrying", 5200, 0},
    {"retry due: the next attempt", SPEC_RETRY, 2, "", 1,
     "'nodes':{'a':{'phase':'Running','attempts':1,'retryAt':'2026-03-01T11:59:59Z'}}",
     "[" TJ("r-a-1", "a", "1", "2026-03-01T11:59:00Z", FAILED) "]", "Pending", "PROGRESSING", "Starting",
     "starting task a (TrainingJob r-a-2)", "a=Running/2, b=Pending/0", "apply TrainingJob r-a-2", "Normal TaskStarted",
     30000, 0},
    {"failed, FailFast", SPEC_AB, 2, "", 1, "'nodes':{'a':{'phase':'Running','attempts':1}}",
     "[" TJ("r-a-1", "a", "1", "2026-03-01T11:59:00Z", FAILED) "]", "Failed", "FAILED", "TaskFailed",
     "task a failed: TrainingJob r-a-1 failed (Error): exit code 1", "a=Failed/1, b=Omitted/0", "",
     "Warning TaskFailed, Normal TaskOmitted, Warning Failed", 0, 0},
    {"failed, Continue runs the rest", SPEC_CONTINUE, 2, "", 1,
     "'nodes':{'a':{'phase':'Running','attempts':1},'c':{'phase':'Running','attempts':1}}",
     "[" TJ("r-a-1", "a", "1", "2026-03-01T11:59:00Z", FAILED) "," TJ("r-c-1", "c", "1", "2026-03-01T11:59:00Z",
                                                                       RUNNING) "]",
     "Running", "PROGRESSING", "Running", "running: c", "a=Failed/1, b=Omitted/0, c=Running/1", "",
     "Warning TaskFailed, Normal TaskOmitted", 30000, 0},
    {"failed, Continue, the rest done", SPEC_CONTINUE, 2, "", 1,
     "'nodes':{'a':{'phase':'Failed','attempts':1,'message':'exit code 1'},'b':{'phase':'Omitted','attempts':0},"
     "'c':{'phase':'Running','attempts':1}}",
     "[" TJ("r-c-1", "c", "1", "2026-03-01T11:59:00Z", DONE) "]", "Failed", "FAILED", "TaskFailed",
     "task a failed: exit code 1", "a=Failed/1, b=Omitted/0, c=Succeeded/1", "",
     "Normal TaskSucceeded, Warning Failed", 0, 0},
    {"succeeded", SPEC_AB, 2, "", 1,
     "'nodes':{'a':{'phase':'Succeeded','attempts':1},'b':{'phase':'Running','attempts':1}}",
     "[" TJ("r-b-1", "b", "1", "2026-03-01T11:59:00Z", DONE) "]", "Succeeded", "SUCCEEDED", "Succeeded",
     "all 2 tasks finished", "a=Succeeded/1, b=Succeeded/1", "", "Normal TaskSucceeded, Normal Succeeded", 0, 0},
    {"timed out: the attempt is stopped", SPEC_TIMEOUT, 2, "", 1, "'nodes':{'a':{'phase':'Running','attempts':1}}",
     "[" TJ("r-a-1", "a", "1", "2026-03-01T11:58:00Z", RUNNING) "]", "Failed", "FAILED", "TaskFailed",
     "task a failed: timed out after 60s (timeoutSeconds)", "a=Failed/1, b=Omitted/0",
     "apply TrainingJob r-a-1 stopped",
     "Warning TaskTimedOut, Warning TaskFailed, Normal TaskOmitted, Warning Failed", 0, 0},
    {"an attempt no longer wanted is stopped", SPEC_AB, 2, "", 1,
     "'nodes':{'a':{'phase':'Running','attempts':2}}",
     "[" TJ("r-a-1", "a", "1", "2026-03-01T11:58:00Z", RUNNING) "," TJ("r-a-2", "a", "2", "2026-03-01T11:59:00Z",
                                                                       RUNNING) "]",
     "Running", "PROGRESSING", "Running", "running: a", "a=Running/2, b=Pending/0", "apply TrainingJob r-a-1 stopped",
     "", 30000, 0},
    {"retry annotation on a failed run", SPEC_AB, 2, ",'annotations':{'cubit.dev/retry':'1'}", 1,
     "'phase':'Failed','nodes':{'a':{'phase':'Failed','attempts':1},'b':{'phase':'Omitted','attempts':0}}",
     "[" TJ("r-a-1", "a", "1", "2026-03-01T11:59:00Z", FAILED) "]", "Pending", "PROGRESSING", "Starting",
     "starting task a (TrainingJob r-a-2)", "a=Running/2, b=Pending/0", "apply TrainingJob r-a-2",
     "Normal Retried, Normal TaskStarted", 30000, 0},
    {"retry annotation already handled", SPEC_AB, 2, ",'annotations':{'cubit.dev/retry':'1'}", 1,
     "'phase':'Failed','lastHandledRetry':'1','message':'task a failed: exit code 1','nodes':{'a':{'phase':'Failed',"
     "'attempts':1},'b':{'phase':'Omitted','attempts':0}},'conditions':[{'type':'Ready','status':'False','reason':"
     "'TaskFailed','message':'task a failed: exit code 1'}]",
     "[" TJ("r-a-1", "a", "1", "2026-03-01T11:59:00Z", FAILED) "]", "Failed", "FAILED", "TaskFailed",
     "task a failed: exit code 1", "a=Failed/1, b=Omitted/0", "", "", 0, 0},
    {"retry annotation on a running run", SPEC_AB, 2, ",'annotations':{'cubit.dev/retry':'1'}", 1,
     "'phase':'Running','nodes':{'a':{'phase':'Running','attempts':1}}",
     "[" TJ("r-a-1", "a", "1", "2026-03-01T11:59:00Z", RUNNING) "]", "Running", "PROGRESSING", "Running",
     "running: a", "a=Running/1, b=Pending/0", "", "Normal RetryIgnored", 30000, 0},
    {"succeeded run stays so", SPEC_AB, 2, "", 1,
     "'phase':'Succeeded','completionTime':'2026-03-01T11:00:00Z','nodes':{'a':{'phase':'Succeeded','attempts':1},"
     "'b':{'phase':'Succeeded','attempts':1}},'conditions':[{'type':'Ready','status':'True','reason':'Succeeded',"
     "'message':'all 2 tasks finished'}]",
     "[]", "Succeeded", "SUCCEEDED", "Succeeded", "all 2 tasks finished", "a=Succeeded/1, b=Succeeded/1", "", "", 0, 0},
    /* stop and resume (spec.stopped) */
    {"stopped while a task runs: its attempt is stopped, it waits", SPEC_AB, 2, "", 1,
     "'phase':'Running','nodes':{'a':{'phase':'Running','attempts':1}}",
     "[" TJ("r-a-1", "a", "1", "2026-03-01T11:59:00Z", RUNNING) "]", "Stopped", "SUSPENDED", "Stopped",
     "stopped by spec.stopped with 0/2 tasks finished; set it to false to resume", "a=Pending/1, b=Pending/0",
     "apply TrainingJob r-a-1 stopped", "Normal Stopped", 0, 1},
    {"stopped: an attempt that had succeeded counts", SPEC_AB, 2, "", 1,
     "'phase':'Running','nodes':{'a':{'phase':'Running','attempts':1}}",
     "[" TJ("r-a-1", "a", "1", "2026-03-01T11:59:00Z", DONE) "]", "Stopped", "SUSPENDED", "Stopped",
     "stopped by spec.stopped with 1/2 tasks finished; set it to false to resume", "a=Succeeded/1, b=Pending/0", "",
     "Normal TaskSucceeded, Normal Stopped", 0, 1},
    {"stopped while waiting for a retry", SPEC_RETRY, 2, "", 1,
     "'phase':'Pending','nodes':{'a':{'phase':'Running','attempts':1,'retryAt':'2026-03-01T12:00:09Z','message':"
     "'attempt 1 failed: exit code 1; retry 1 of 1 at +9s'}}",
     "[" TJ("r-a-1", "a", "1", "2026-03-01T11:59:00Z", FAILED) "]", "Stopped", "SUSPENDED", "Stopped",
     "stopped by spec.stopped with 0/2 tasks finished; set it to false to resume", "a=Pending/1, b=Pending/0", "",
     "Normal Stopped", 0, 1},
    {"stopped before it started", SPEC_AB, 2, "", 0, "", "[]", "Stopped", "SUSPENDED", "Stopped",
     "stopped by spec.stopped before it started; set it to false to start it", "", "", "Normal Stopped", 0, 1},
    {"resumed: the stopped task starts its next attempt", SPEC_AB, 2, "", 1,
     "'phase':'Stopped','nodes':{'a':{'phase':'Pending','attempts':1,'stoppedAttempts':1}}",
     "[{'metadata':{'name':'r-a-1','namespace':'ml','creationTimestamp':'2026-03-01T11:59:00Z','labels':{"
     "'cubit.dev/task':'a','cubit.dev/attempt':'1'},'annotations':{'cubit.dev/stopped':'stopped with the run'},"
     "'ownerReferences':[{'kind':'PipelineRun','name':'r','uid':'run-uid','controller':true}]},'status':"
     "{'phase':'Suspended'}}]",
     "Pending", "PROGRESSING", "Starting", "starting task a (TrainingJob r-a-2)", "a=Running/2, b=Pending/0",
     "apply TrainingJob r-a-2", "Normal Resumed, Normal TaskStarted", 30000, 0},
    /* retry from a task (cubit.dev/retry-from) */
    {"retry from b on a succeeded run: b again, a kept", SPEC_AB, 2,
     ",'annotations':{'cubit.dev/retry':'1','cubit.dev/retry-from':'b'}", 1,
     "'phase':'Succeeded','completionTime':'2026-03-01T11:00:00Z','nodes':{'a':{'phase':'Succeeded','attempts':1,"
     "'outputs':{'rows':'5'}},'b':{'phase':'Succeeded','attempts':1,'outputs':{'model':'m'}}}",
     "[]", "Pending", "PROGRESSING", "Starting", "starting task b (TrainingJob r-b-2)", "a=Succeeded/1, b=Running/2",
     "apply TrainingJob r-b-2", "Normal Retried, Normal TaskStarted", 30000, 0},
    {"retry from a task the run does not have", SPEC_AB, 2,
     ",'annotations':{'cubit.dev/retry':'1','cubit.dev/retry-from':'zz'}", 1,
     "'phase':'Succeeded','completionTime':'2026-03-01T11:00:00Z','nodes':{'a':{'phase':'Succeeded','attempts':1},"
     "'b':{'phase':'Succeeded','attempts':1}},'conditions':[{'type':'Ready','status':'True','reason':'Succeeded',"
     "'message':'all 2 tasks finished'}]",
     "[]", "Succeeded", "SUCCEEDED", "Succeeded", "all 2 tasks finished", "a=Succeeded/1, b=Succeeded/1", "",
     "Warning RetryIgnored", 0, 0},
    {"a finished run is not stopped", SPEC_AB, 2, "", 1,
     "'phase':'Succeeded','completionTime':'2026-03-01T11:00:00Z','nodes':{'a':{'phase':'Succeeded','attempts':1},"
     "'b':{'phase':'Succeeded','attempts':1}},'conditions':[{'type':'Ready','status':'True','reason':'Succeeded',"
     "'message':'all 2 tasks finished'}]",
     "[]", "Succeeded", "SUCCEEDED", "Succeeded", "all 2 tasks finished", "a=Succeeded/1, b=Succeeded/1", "", "", 0, 1},
};

static json_t *run_object(const struct run_row *r) {
  char *text = xasprintf("{'apiVersion':'cubit.dev/v1alpha1','kind':'PipelineRun','metadata':{'name':'r','namespace':"
                         "'ml','uid':'run-uid','generation':3,'creationTimestamp':'2026-03-01T10:59:00Z'%s},'spec':{"
                         "'pipelineRef':{'name':'etl'}%s}}",
                         r->meta, r->stopped ? ",'stopped':true" : "");
  json_t *run = J(text);
  free(text);
  text = xasprintf("{%s}", r->before);
  json_t *status = J(text);
  free(text);
  if (r->started) {
    json_object_set_new(status, "pipelineSpec", J(run_specs[r->spec]));
    json_t *templates = json_object();
    json_object_set_new(templates, "JobTemplate/t", J(tmpl_t));
    json_object_set_new(status, "templates", templates);
    js_set_time(status, "startTime", T("2026-03-01T11:00:00Z"));
  }
  json_object_set_new(run, "status", status);
  return run;
}

static void nodes_words(const json_t *status, char *out, size_t len) {
  out[0] = '\0';
  const char *task;
  json_t *n;
  json_object_foreach(json_object_get(status, "nodes"), task, n) {
    char word[80];
    snprintf(word, sizeof(word), "%s=%s/%d", task, js_str(n, "phase"), (int)js_int(n, "attempts", -1));
    add_word(out, len, word);
  }
}

START_TEST(plan_pipelinerun) {
  const struct run_row *r = &run_rows[_i];
  json_t *run = run_object(r);
  char *ptext = xasprintf("{'metadata':{'name':'etl','namespace':'ml'},'spec':%s}", run_specs[r->spec]);
  json_t *pipeline = r->exists ? J(ptext) : NULL;
  free(ptext);
  json_t *templates = json_object();
  if (r->exists == 2) {
    char *t = xasprintf("{'metadata':{'name':'t','namespace':'ml'},'spec':%s}", tmpl_t);
    json_object_set_new(templates, "JobTemplate/t", J(t));
    free(t);
  }
  json_t *tjs = J(r->tjs);
  cache_list tj_list = {malloc((json_array_size(tjs) + 1) * sizeof(json_t *)), json_array_size(tjs)};
  for (size_t i = 0; i < tj_list.len; i++) tj_list.items[i] = json_array_get(tjs, i);
  cache_list none = {NULL, 0};
  pl_run_in in = {.run = run, .pipeline = pipeline, .templates = templates, .trainingjobs = &tj_list, .jobs = &none,
                  .pods = &none, .reader_image = "busybox", .now = T(PLAN_NOW)};
  rt_plan plan;
  rt_plan_init(&plan);
  pl_run_plan(&in, &plan);
  said w;
  plan_words(&plan, &w);
  ck_assert_msg(w.status != NULL, "%s: no status", r->name);
  assert_state(w.status, r->phase, r->state, r->reason, r->message);
  char nodes[400];
  nodes_words(w.status, nodes, sizeof(nodes));
  ck_assert_str_eq(nodes, r->nodes);
  ck_assert_str_eq(w.actions, r->actions);
  ck_assert_str_eq(w.events, r->events);
  ck_assert_int_eq(w.requeue, r->requeue);
  /* The same plan taken again on what it wrote (the cache unchanged)
   * keeps the status and says nothing again: events are for transitions.
   * Its applies, if any, are the same (idempotent) ones. */
  json_object_set(run, "status", plan.status);
  rt_plan again;
  rt_plan_init(&again);
  pl_run_plan(&in, &again);
  said w2;
  plan_words(&again, &w2);
  ck_assert_msg(json_equal(again.status, plan.status), "%s: the status changed on a second look", r->name);
  ck_assert_str_eq(w2.events, "");
  ck_assert_str_eq(w2.actions, r->actions);
  rt_plan_free(&again);
  rt_plan_free(&plan);
  free(tj_list.items);
  json_decref(tjs);
  json_decref(templates);
  json_decref(pipeline);
  json_decref(run);
}
END_TEST

/* The start copies the pipeline, its templates and the resolved
 * parameters; the TrainingJob carries them. */
START_TEST(plan_pipelinerun_start_snapshot) {
  json_t *run = J("{'metadata':{'name':'r','namespace':'ml','uid':'run-uid','generation':1},'spec':{'pipelineRef':"
                  "{'name':'etl'},'params':{'n':'4'}}}");
  json_t *pipeline = J("{'metadata':{'name':'etl','namespace':'ml'},'spec':{'parameters':[{'name':'n','type':'int',"
                       "'required':true}],'tasks':[{'name':'a','templateRef':{'name':'t'},'params':{'in':"
                       "'{{params.n}}'}}]}}");
  json_t *templates = json_object();
  char *t = xasprintf("{'metadata':{'name':'t','namespace':'ml'},'spec':%s}", tmpl_t);
  json_object_set_new(templates, "JobTemplate/t", J(t));
  free(t);
  cache_list none = {NULL, 0};
  pl_run_in in = {.run = run, .pipeline = pipeline, .templates = templates, .trainingjobs = &none, .jobs = &none,
                  .pods = &none, .reader_image = "busybox", .now = T(PLAN_NOW)};
  rt_plan plan;
  rt_plan_init(&plan);
  pl_run_plan(&in, &plan);
  ck_assert_int_eq(js_int(plan.status, "params.n", 0), 4);
  ck_assert_ptr_nonnull(js_get(plan.status, "pipelineSpec.tasks"));
  ck_assert_ptr_nonnull(json_object_get(js_get(plan.status, "templates"), "JobTemplate/t"));
  ck_assert_str_eq(js_str(plan.status, "startTime"), PLAN_NOW);
  ck_assert_uint_eq(plan.nactions, 1);
  const json_t *tj = plan.actions[0].object;
  ck_assert_str_eq(json_string_value(json_array_get(js_get(tj, "spec.command"), 1)), "4");
  rt_plan_free(&plan);
  json_decref(templates);
  json_decref(pipeline);
  json_decref(run);
}
END_TEST

/* ------------------------------------------ a run placed as a whole */

/* A pipeline with a work volume made per run, two tasks sharing it (b reads
 * a's output), a gang of one pod with a GPU. */
#define PLACED_SPEC                                                                                                  \
  "{'workVolume':{'volumeClaimTemplate':{'spec':{'accessModes':['ReadWriteOnce'],'resources':{'requests':"            \
  "{'storage':'1Gi'}}}}},'tasks':[{'name':'a','templateRef':{'name':'o'},'resources':{'cpu':'1','gpu':'1'}},"        \
  "{'name':'b','templateRef':{'name':'o'},'dependsOn':['a'],'params':{'in':'{{tasks.a.outputs.m}}'}}]}"
static const char *tmpl_o = "{'parameters':[{'name':'in','default':'x'}],'outputs':[{'name':'m','path':'m.txt'}],"
                            "'workload':{'framework':'batch','image':'busybox','command':['echo','{{params.in}}'],"
                            "'roles':{'main':{'replicas':1}}}}";
#define TJ_DONE(name, task)                                                                                           \
  "{'metadata':{'name':'" name "','namespace':'ml','labels':{'cubit.dev/task':'" task "','cubit.dev/attempt':'1'},"  \
  "'ownerReferences':[{'kind':'PipelineRun','name':'r','uid':'run-uid','controller':true}]},'status':" DONE "}"
#define MEMBER_OWNED "'labels':{'cubit.dev/pipelinerun':'r','cubit.dev/owner-uid':'run-uid'}"

static const struct placed_row {
  const char *name;
  const char *spec;    /* more of the run's spec (JSON members) */
  const char *meta;    /* more metadata (JSON members) */
  const char *before;  /* more status (JSON members) */
  int east_ready;      /* gpu-east answers */
  int64_t east_gpus;   /* free GPUs (cards) in gpu-east; the hub has none */
  const char *tjs;     /* the hub's TrainingJobs */
  const char *jobs;    /* the Jobs (the member's when placed there) */
  const char *claim;   /* the run's work claim in gpu-east, or NULL */
  /* what the plan says (phase NULL: no status written) */
  const char *phase, *state, *reason, *message;
  const char *cluster; /* status.cluster */
  const char *actions, *events;
  int64_t requeue;
} placed_rows[] = {
    {"pinned to the member: the choice is written alone", "'cluster':'gpu-east'", "", "", 1, 0, "[]", "[]", NULL,
     "Pending", "PROGRESSING", "Placed", "placed on cluster gpu-east (spec.cluster)", "gpu-east", "", "Normal Placed",
     0},
    {"placed by policy on the member with room", "'placement':{'policy':'Ordered'}", "", "", 1, 2, "[]", "[]", NULL,
     "Pending", "PROGRESSING", "Placed", "placed on cluster gpu-east (policy Ordered)", "gpu-east", "",
     "Normal Placed", 0},
    {"placed on the member: the finalizer next, alone", "'cluster':'gpu-east'", "", "'cluster':'gpu-east'", 1, 0, "[]",
     "[]", NULL, NULL, NULL, NULL, NULL, NULL, "add-finalizer", "", 0},
    {"in the member: its claim there, the first task pinned there", "'cluster':'gpu-east'",
     ",'finalizers':['cubit.dev/remote-children']", "'cluster':'gpu-east'", 1, 0, "[]", "[]", NULL, "Pending",
     "PROGRESSING", "Starting", "starting task a (TrainingJob r-a-1)", "gpu-east",
     "apply PersistentVolumeClaim r-work@gpu-east owned-by-label, apply TrainingJob r-a-1 cluster=gpu-east",
     "Normal TaskStarted", 30000},
    {"in the member: a's outputs read there", "'cluster':'gpu-east'", ",'finalizers':['cubit.dev/remote-children']",
     "'cluster':'gpu-east','nodes':{'a':{'phase':'Running','attempts':1}}", 1, 0, "[" TJ_DONE("r-a-1", "a") "]",
     "[]", NULL, "Running", "PROGRESSING", "Running", "running: a", "gpu-east",
     "apply PersistentVolumeClaim r-work@gpu-east owned-by-label, apply Job r-a-1-outputs@gpu-east owned-by-label",
     "", 30000},
    {"no cluster has room", "'placement':{'policy':'Ordered'}", "", "", 1, 0, "[]", "[]", NULL, "Queued",
     "PROGRESSING", "NoClusterFits",
     "no cluster of p has room for its largest task's gang (cpu 1000m, memory 0 bytes, 1 GPUs): local: 0 "
     "free GPUs, 1 needed; gpu-east: 0 free GPUs, 1 needed",
     NULL, "", "Warning NoClusterFits", 15000},
    {"pinned to a cluster the project does not list", "'cluster':'gpu-west'", "", "", 1, 0, "[]", "[]", NULL,
     "Pending", "FAILED", "ClusterNotAllowed", "spec.cluster: gpu-west is not one of p's clusters", NULL, "",
     "Warning ClusterNotAllowed", 0},
    {"its member does not answer", "'cluster':'gpu-east'", ",'finalizers':['cubit.dev/remote-children']",
     "'cluster':'gpu-east','phase':'Running'", 0, 0, "[]", "[]", NULL, "Running", "PROGRESSING", "", "", "gpu-east",
     "", "Warning ClusterUnreachable", 5000},
    {"deleted: its reader and claim in the member go, the finalizer waits", "'cluster':'gpu-east'",
     ",'finalizers':['cubit.dev/remote-children'],'deletionTimestamp':'2026-03-01T11:59:00Z'", "'cluster':'gpu-east'",
     1, 0, "[" TJ_DONE("r-a-1", "a") "]",
     "[{'metadata':{'name':'r-a-1-outputs','namespace':'ml'," MEMBER_OWNED "}},"
     "{'metadata':{'name':'r-a-1','namespace':'ml','labels':{'cubit.dev/pipelinerun':'r','cubit.dev/owner-uid':"
     "'tj-uid'}}}]",
     "{'metadata':{'name':'r-work','namespace':'ml'," MEMBER_OWNED "}}", NULL, NULL, NULL, NULL, NULL,
     "delete Job r-a-1-outputs@gpu-east, delete PersistentVolumeClaim r-work@gpu-east", "", 1000},
    {"deleted: the claim's deletion under way (held by the tasks' pods), the finalizer goes", "'cluster':'gpu-east'",
     ",'finalizers':['cubit.dev/remote-children'],'deletionTimestamp':'2026-03-01T11:59:00Z'", "'cluster':'gpu-east'",
     1, 0, "[" TJ_DONE("r-a-1", "a") "]", "[]",
     "{'metadata':{'name':'r-work','namespace':'ml','deletionTimestamp':'2026-03-01T11:59:30Z'," MEMBER_OWNED "}}",
     NULL, NULL, NULL, NULL, NULL, "remove-finalizer", "", 0},
    {"deleted while the member does not answer: the finalizer waits", "'cluster':'gpu-east'",
     ",'finalizers':['cubit.dev/remote-children'],'deletionTimestamp':'2026-03-01T11:59:00Z'", "'cluster':'gpu-east'",
     0, 0, "[]", "[]", NULL, NULL, NULL, NULL, NULL, NULL, "", "", 5000},
    {"deleted: nothing left in the member, the finalizer goes", "'cluster':'gpu-east'",
     ",'finalizers':['cubit.dev/remote-children'],'deletionTimestamp':'2026-03-01T11:59:00Z'", "'cluster':'gpu-east'",
     1, 0, "[]", "[]", NULL, NULL, NULL, NULL, NULL, NULL, "remove-finalizer", "", 0},
};

static void placed_words(const rt_plan *p, char *out, size_t len) {
  out[0] = '\0';
  for (size_t i = 0; i < p->nactions; i++) {
    const rt_action *a = &p->actions[i];
    char word[300];
    if (a->kind == RT_ACT_ADD_FINALIZER || a->kind == RT_ACT_REMOVE_FINALIZER) {
      snprintf(word, sizeof(word), "%s", a->kind == RT_ACT_ADD_FINALIZER ? "add-finalizer" : "remove-finalizer");
    } else {
      const char *tjc = strcmp(a->resource->kind, "TrainingJob") == 0 ? js_str(a->object, "spec.cluster") : NULL;
      int labelled = a->cluster && js_get(a->object, "metadata.ownerReferences") == NULL &&
                     json_object_get(js_get(a->object, "metadata.labels"), "cubit.dev/owner-uid");
      snprintf(word, sizeof(word), "%s %s %s%s%s%s%s%s", a->kind == RT_ACT_APPLY ? "apply" : "delete",
               a->resource->kind, js_name(a->object), a->cluster ? "@" : "", a->cluster ? a->cluster : "",
               tjc ? " cluster=" : "", tjc ? tjc : "", labelled && a->kind == RT_ACT_APPLY ? " owned-by-label" : "");
    }
    add_word(out, len, word);
  }
}

START_TEST(plan_pipelinerun_placed) {
  const struct placed_row *r = &placed_rows[_i];
  char *text = xasprintf("{'apiVersion':'cubit.dev/v1alpha1','kind':'PipelineRun','metadata':{'name':'r','namespace':"
                         "'ml','uid':'run-uid','generation':3,'creationTimestamp':'2026-03-01T10:59:00Z'%s},'spec':{"
                         "'pipelineRef':{'name':'etl'},%s},'status':{%s}}",
                         r->meta, r->spec, r->before);
  json_t *run = J(text);
  free(text);
  json_t *status = json_object_get(run, "status");
  json_object_set_new(status, "pipelineSpec", J(PLACED_SPEC));
  json_object_set_new(status, "templates", json_pack("{s:o}", "JobTemplate/o", J(tmpl_o)));
  js_set_time(status, "startTime", T("2026-03-01T11:00:00Z"));
  json_t *tjs = J(r->tjs), *jobs = J(r->jobs), *claim = r->claim ? J(r->claim) : NULL;
  cache_list tj_list = {malloc((json_array_size(tjs) + 1) * sizeof(json_t *)), json_array_size(tjs)};
  for (size_t i = 0; i < tj_list.len; i++) tj_list.items[i] = json_array_get(tjs, i);
  cache_list job_list = {malloc((json_array_size(jobs) + 1) * sizeof(json_t *)), json_array_size(jobs)};
  for (size_t i = 0; i < job_list.len; i++) job_list.items[i] = json_array_get(jobs, i);
  cache_list none = {NULL, 0};
  placement_view clusters[2] = {
      {.name = "local", .ready = 1, .serves = 1, .free_cpu_milli = 64000, .free_memory_bytes = 1LL << 36},
      {.name = "gpu-east", .ready = r->east_ready, .message = "cannot reach the API server", .serves = 1,
       .free_cpu_milli = 64000, .free_memory_bytes = 1LL << 36, .free_gpu_milli = r->east_gpus * 1000},
  };
  placement_spec place;
  char err[300];
  json_t *spec = json_object_get(run, "spec");
  ck_assert_msg(placement_spec_parse(spec, &place, err, sizeof(err)) == 0, "%s", err);
  pl_run_in in = {.run = run, .trainingjobs = &tj_list, .jobs = &job_list, .pods = &none, .reader_image = "busybox",
                  .now = T(PLAN_NOW), .place = &place, .clusters = clusters, .nclusters = 2, .project_name = "p",
                  .member_claim = claim};
  rt_plan plan;
  rt_plan_init(&plan);
  pl_run_plan(&in, &plan);
  said w;
  plan_words(&plan, &w);
  char actions[1024];
  placed_words(&plan, actions, sizeof(actions));
  ck_assert_str_eq(actions, r->actions);
  ck_assert_str_eq(w.events, r->events);
  ck_assert_int_eq(w.requeue, r->requeue);
  if (r->phase == NULL) {
    ck_assert_msg(plan.status == NULL, "%s: a status is written", r->name);
  } else if (r->reason[0]) {
    assert_state(plan.status, r->phase, r->state, r->reason, r->message);
  } else { /* the member away: the phase as last seen, ClusterReachable says why */
    ck_assert_str_eq(js_str(plan.status, "phase"), r->phase);
    const json_t *c = rt_condition_get(plan.status, "ClusterReachable");
    ck_assert_str_eq(js_str(c, "status"), "False");
    ck_assert_str_eq(js_str(c, "message"), "cluster gpu-east: cannot reach the API server");
  }
  if (plan.status) {
    const char *placed = js_str(plan.status, "cluster");
    ck_assert_str_eq(placed ? placed : "(none)", r->cluster ? r->cluster : "(none)");
    if (r->cluster && strcmp(r->reason, "Placed") == 0)
      ck_assert_str_eq(js_str(rt_condition_get(plan.status, "Placed"), "status"), "True");
  }
  rt_plan_free(&plan);
  free(tj_list.items);
  free(job_list.items);
  json_decref(claim);
  json_decref(jobs);
  json_decref(tjs);
  json_decref(run);
}
END_TEST

/* A run starting in this plan is placed on the next look, once its demand
 * is known to the gather: the copy is written, nothing placed or made. */
START_TEST(plan_pipelinerun_placed_start) {
  json_t *run = J("{'apiVersion':'cubit.dev/v1alpha1','kind':'PipelineRun','metadata':{'name':'r','namespace':'ml',"
                  "'uid':'run-uid','generation':3},'spec':{'pipelineRef':{'name':'etl'},'cluster':'gpu-east'}}");
  json_t *pipeline = J("{'metadata':{'name':'etl','namespace':'ml'},'spec':" PLACED_SPEC "}");
  json_t *templates = json_pack("{s:{s:o}}", "JobTemplate/o", "spec", J(tmpl_o));
  cache_list none = {NULL, 0};
  placement_view clusters[2] = {{.name = "local", .ready = 1, .serves = 1}, {.name = "gpu-east", .ready = 1, .serves = 1}};
  placement_spec place = {.cluster = "gpu-east"};
  pl_run_in in = {.run = run, .pipeline = pipeline, .templates = templates, .trainingjobs = &none, .jobs = &none,
                  .pods = &none, .reader_image = "busybox", .now = T(PLAN_NOW), .place = &place,
                  .clusters = clusters, .nclusters = 2, .project_name = "p"};
  rt_plan plan;
  rt_plan_init(&plan);
  pl_run_plan(&in, &plan);
  ck_assert_uint_eq(plan.nactions, 0);
  ck_assert_ptr_nonnull(js_get(plan.status, "pipelineSpec"));
  ck_assert_ptr_null(js_get(plan.status, "cluster"));
  assert_state(plan.status, "Pending", "PROGRESSING", "Starting", "started; placing it as a whole next");
  rt_plan_free(&plan);
  json_decref(templates);
  json_decref(pipeline);
  json_decref(run);
}
END_TEST

/* Without spec.cluster and spec.placement a run is not placed: its claim is
 * the hub's, owned by the run, and a task sharing it is pinned to the hub,
 * whatever clusters the project lists (as before placement as a whole). */
START_TEST(plan_pipelinerun_unplaced) {
  json_t *run = J("{'apiVersion':'cubit.dev/v1alpha1','kind':'PipelineRun','metadata':{'name':'r','namespace':'ml',"
                  "'uid':'run-uid','generation':3},'spec':{'pipelineRef':{'name':'etl'}}}");
  json_t *status = json_object();
  json_object_set_new(status, "pipelineSpec", J(PLACED_SPEC));
  json_object_set_new(status, "templates", json_pack("{s:o}", "JobTemplate/o", J(tmpl_o)));
  json_object_set_new(run, "status", status);
  cache_list none = {NULL, 0};
  placement_view clusters[1] = {{.name = "gpu-east", .ready = 1, .serves = 1}};
  pl_run_in in = {.run = run, .trainingjobs = &none, .jobs = &none, .pods = &none, .reader_image = "busybox",
                  .now = T(PLAN_NOW), .clusters = clusters, .nclusters = 1, .project_name = "p"};
  rt_plan plan;
  rt_plan_init(&plan);
  pl_run_plan(&in, &plan);
  char actions[1024];
  placed_words(&plan, actions, sizeof(actions));
  ck_assert_str_eq(actions, "apply PersistentVolumeClaim r-work, apply TrainingJob r-a-1 cluster=local");
  ck_assert_ptr_nonnull(js_get(plan.actions[0].object, "metadata.ownerReferences"));
  ck_assert_ptr_null(json_object_get(plan.status, "cluster"));
  ck_assert_ptr_null(rt_condition_get(plan.status, "Placed"));
  /* Its demand is the largest task's gang: a's (b's reads a's output). */
  placement_demand d;
  pl_run_demand(&in, &d);
  ck_assert_int_eq(d.gpu_milli, 1000);
  ck_assert_int_eq(d.cpu_milli, 1000);
  rt_plan_free(&plan);
  json_decref(run);
}
END_TEST

/* --------------------------------------------------------- templates */

static int check_tj(const json_t *tj, void *arg, char *err, size_t errlen) {
  tj_spec s;
  return tj_spec_parse(tj, &s, err, errlen) ? CUBIT_EINVAL : 0;
}

static const struct {
  const char *name;
  const char *spec;
  const char *before; /* the status' Reconciling condition before (reason|message), or NULL */
  const char *phase, *state, *reason, *message, *events;
} template_rows[] = {
    {"valid", "{'workload':{'framework':'batch','image':'x','roles':{'main':{}}}}", NULL, "Valid", "READY", "Valid",
     "the template is valid: pipelines may use it", ""},
    {"invalid parameter", "{'parameters':[{'name':'n','type':'int','default':'ten'}],'workload':{'framework':'batch',"
                          "'image':'x','roles':{'main':{}}}}",
     NULL, "Invalid", "FAILED", "InvalidSpec",
     "spec.parameters[0].default: want an integer, got \"ten\" (parameter n is of type int)", "Warning InvalidSpec"},
    {"invalid workload", "{'workload':{'framework':'pytorch','image':'x','roles':{'chief':{}}}}", NULL, "Invalid",
     "FAILED", "InvalidSpec", "spec.workload.roles.chief: not a pytorch role (checked with each parameter's default)",
     "Warning InvalidSpec"},
    {"still invalid: no second event", "{'workload':{'framework':'pytorch','image':'x','roles':{'chief':{}}}}",
     "InvalidSpec|spec.workload.roles.chief: not a pytorch role (checked with each parameter's default)", "Invalid",
     "FAILED", "InvalidSpec", "spec.workload.roles.chief: not a pytorch role (checked with each parameter's default)",
     ""},
    {"fixed", "{'workload':{'framework':'batch','image':'x','roles':{'main':{}}}}",
     "InvalidSpec|spec.workload: required (a TrainingJob spec)", "Valid", "READY", "Valid",
     "the template is valid: pipelines may use it", ""},
};

START_TEST(plan_templates) {
  char *text = xasprintf("{'kind':'JobTemplate','metadata':{'name':'t','namespace':'ml','generation':3},'spec':%s}",
                         template_rows[_i].spec);
  json_t *t = J(text);
  free(text);
  if (template_rows[_i].before) {
    char reason[64];
    const char *bar = strchr(template_rows[_i].before, '|');
    snprintf(reason, sizeof(reason), "%.*s", (int)(bar - template_rows[_i].before), template_rows[_i].before);
    json_t *status = json_pack("{s:[{s:s, s:s, s:s, s:s}]}", "conditions", "type", "Reconciling", "status", "False",
                               "reason", reason, "message", bar + 1);
    json_object_set_new(t, "status", status);
  }
  rt_plan plan;
  rt_plan_init(&plan);
  pl_template_plan(t, check_tj, NULL, T(PLAN_NOW), &plan);
  said w;
  plan_words(&plan, &w);
  assert_state(w.status, template_rows[_i].phase, template_rows[_i].state, template_rows[_i].reason,
               template_rows[_i].message);
  ck_assert_str_eq(w.actions, "");
  ck_assert_str_eq(w.events, template_rows[_i].events);
  ck_assert_int_eq(w.requeue, 0);
  rt_plan_free(&plan);
  json_decref(t);
}
END_TEST

/* ---------------------------------------------------------- Pipeline */

#define HOURLY "'schedule':{'cron':'0 * * * *'%s}"
#define TASK_A "'tasks':[{'name':'a','templateRef':{'name':'t'}}]"
/* The tick at 11:00 and 12:00 of PLAN_DAY, and a run of a tick. */
#define AT11 "2026-03-01T11:00:00Z"
#define AT12 "2026-03-01T12:00:00Z"
#define RUN_OF(tick, phase)                                                                                            \
  "{'metadata':{'name':'etl-" tick "','namespace':'ml','uid':'u-" tick "','creationTimestamp':'2026-03-01T10:30:00Z'},"\
  "'spec':{'pipelineRef':{'name':'etl'},'scheduledTime':'%s'},'status':{'phase':'" phase "'%s}}"

static const struct pipeline_row {
  const char *name;
  const char *spec;       /* the Pipeline's spec */
  int template_exists;
  const char *before;     /* more status (JSON members) */
  const char *runs;       /* owned runs, a JSON array */
  const char *now;
  const char *phase, *state, *reason, *message;
  const char *actions, *events;
  const char *last_schedule; /* status.lastScheduleTime, or NULL for none */
  int64_t requeue;
} pipeline_rows[] = {
    {"invalid spec", "{'tasks':[{'name':'a','templateRef':{'name':'t'},'dependsOn':['b']},{'name':'b','templateRef':"
                     "{'name':'t'},'dependsOn':['a']}]}",
     1, "", "[]", "2026-03-01T12:10:00Z", "Invalid", "FAILED", "InvalidSpec",
     "spec.tasks: the dependencies form a cycle: a -> b -> a", "", "Warning InvalidSpec", NULL, 0},
    {"no schedule", "{" TASK_A "}", 1, "", "[]", "2026-03-01T12:10:00Z", "Manual", "READY", "Manual",
     "no schedule: runs are started by creating PipelineRuns", "", "", NULL, 0},
    {"template missing", "{" TASK_A "}", 0, "", "[]", "2026-03-01T12:10:00Z", "Pending", "PROGRESSING",
     "TemplateNotFound", "spec.tasks[0].templateRef: JobTemplate t not found (task a)", "", "Warning TemplateNotFound",
     NULL, 0},
    {"task does not fit its template", "{'tasks':[{'name':'a','templateRef':{'name':'t'},'params':{'nope':1}}]}", 1,
     "", "[]", "2026-03-01T12:10:00Z", "Invalid", "FAILED", "TemplateMismatch",
     "spec.tasks[0].params.nope: JobTemplate t has no parameter nope (task a)", "", "Warning TemplateMismatch", NULL,
     0},
    {"a tick is due: its run is made", "{" HOURLY "," TASK_A "}", 1, ",'lastScheduleTime':'" AT11 "'",
     "[" RUN_OF("1772362800", "Succeeded") "]", "2026-03-01T12:10:00Z", "Scheduled", "READY", "Scheduled",
     "next run at 2026-03-01T13:00:00Z", "apply PipelineRun etl-1772366400", "Normal RunCreated", AT11, 1000},
    {"suspended", "{" HOURLY "," TASK_A "}", 1, ",'lastScheduleTime':'" AT11 "'", "[]", "2026-03-01T12:10:00Z",
     "Suspended", "SUSPENDED", "Suspended", "the schedule is suspended (spec.schedule.suspend)", "", "", AT11, 0},
    {"dependsOnPast after a failed run", "{" HOURLY "," TASK_A "}", 1, ",'lastScheduleTime':'" AT11 "'",
     "[" RUN_OF("1772362800", "Failed") "]", "2026-03-01T12:10:00Z", "Blocked", "FAILED", "PreviousRunFailed",
     "run etl-1772362800 failed: dependsOnPast holds every later tick until it succeeds (retry it with the "
     "cubit.dev/retry annotation, or delete it)",
     "", "Warning PreviousRunFailed", AT11, 3000500},
    {"schedule ended", "{" HOURLY "," TASK_A "}", 1, ",'lastScheduleTime':'" AT11 "'", "[]", "2026-03-01T12:10:00Z",
     "Ended", "READY", "ScheduleEnded", "no more ticks before endTime", "", "", AT11, 0},
    {"maxActiveRuns reached", "{" HOURLY "," TASK_A "}", 1, ",'lastScheduleTime':'" AT11 "'",
     "[" RUN_OF("1772362800", "Running") "]", "2026-03-01T12:10:00Z", "Scheduled", "READY", "Waiting",
     "maxActiveRuns (1) reached", "", "", AT11, 3000500},
    {"history limit", "{" HOURLY "," TASK_A "}", 1, ",'lastScheduleTime':'" AT12 "'",
     "[" RUN_OF("1772362800", "Succeeded") "," RUN_OF("1772366400", "Succeeded") "]", "2026-03-01T12:10:00Z",
     "Scheduled", "READY", "Scheduled", "next run at 2026-03-01T13:00:00Z", "delete PipelineRun etl-1772362800",
     "Normal RunDeleted", AT12, 3000500},
    {"ticks past the deadline are skipped", "{" HOURLY "," TASK_A "}", 1, ",'lastScheduleTime':'2026-03-01T09:00:00Z'",
     "[]", "2026-03-01T12:05:00Z", "Scheduled", "READY", "Scheduled", "next run at 2026-03-01T13:00:00Z",
     "apply PipelineRun etl-1772366400", "Normal RunCreated, Normal TickSkipped", AT11, 1000},
};

/* Row-specific schedule options, filled into HOURLY's %s. */
static const char *schedule_options(const char *name) {
  if (strcmp(name, "suspended") == 0) return ",'suspend':true";
  if (strcmp(name, "dependsOnPast after a failed run") == 0) return ",'dependsOnPast':true";
  if (strcmp(name, "schedule ended") == 0) return ",'endTime':'2026-03-01T11:30:00Z'";
  if (strcmp(name, "maxActiveRuns reached") == 0) return ",'maxActiveRuns':1";
  if (strcmp(name, "history limit") == 0) return ",'successfulRunsHistoryLimit':1";
  if (strcmp(name, "ticks past the deadline are skipped") == 0) return ",'startingDeadlineSeconds':600";
  return "";
}

static json_t *pipeline_object(const struct pipeline_row *r) {
  char *spec = xasprintf(r->spec, schedule_options(r->name));
  char *text = xasprintf("{'apiVersion':'cubit.dev/v1alpha1','kind':'Pipeline','metadata':{'name':'etl','namespace':"
                         "'ml','uid':'p-uid','generation':3,'creationTimestamp':'2026-03-01T08:30:00Z'},'spec':%s,"
                         "'status':{'observedGeneration':2%s}}",
                         spec, r->before);
  json_t *p = J(text);
  free(text);
  free(spec);
  return p;
}

/* The owned runs, their %s filled: the scheduled time from the name's tick. */
static json_t *pipeline_runs(const char *runs) {
  json_t *arr = J(runs);
  size_t i;
  json_t *run;
  json_array_foreach(arr, i, run) {
    long long tick = atoll(js_name(run) + 4);
    char when[32];
    time_format_rfc3339(tick, when);
    json_object_set_new(json_object_get(run, "spec"), "scheduledTime", json_string(when));
    const char *phase = js_str(run, "status.phase");
    if (strcmp(phase, "Running") != 0) js_set_time(json_object_get(run, "status"), "completionTime", tick + 60);
  }
  return arr;
}

static void pipeline_plan_of(const json_t *p, const json_t *runs, int template_exists, const pl_memo *known,
                             int64_t now, rt_plan *plan, pl_memo *learned) {
  json_t *templates = json_object();
  if (template_exists) {
    char *t = xasprintf("{'metadata':{'name':'t','namespace':'ml'},'spec':%s}", tmpl_t);
    json_object_set_new(templates, "JobTemplate/t", J(t));
    free(t);
  }
  cache_list l = {malloc((json_array_size(runs) + 1) * sizeof(json_t *)), json_array_size(runs)};
  for (size_t i = 0; i < l.len; i++) l.items[i] = json_array_get(runs, i);
  pl_pipeline_in in = {p, templates, &l, known, now};
  pl_pipeline_plan(&in, plan, learned);
  free(l.items);
  json_decref(templates);
}

START_TEST(plan_pipeline) {
  const struct pipeline_row *r = &pipeline_rows[_i];
  json_t *p = pipeline_object(r);
  /* %s in RUN_OF takes the scheduled time and more status; fill both. */
  char *runs_text = strdup(r->runs);
  for (char *s; (s = strstr(runs_text, "%s")) != NULL;) memmove(s, s + 2, strlen(s + 2) + 1);
  json_t *runs = pipeline_runs(runs_text);
  free(runs_text);
  pl_memo known, learned;
  memset(&known, 0, sizeof(known));
  rt_plan plan;
  rt_plan_init(&plan);
  pipeline_plan_of(p, runs, r->template_exists, &known, T(r->now), &plan, &learned);
  said w;
  plan_words(&plan, &w);
  assert_state(w.status, r->phase, r->state, r->reason, r->message);
  ck_assert_str_eq(w.actions, r->actions);
  ck_assert_str_eq(w.events, r->events);
  ck_assert_int_eq(w.requeue, r->requeue);
  if (r->last_schedule) ck_assert_str_eq(js_str(w.status, "lastScheduleTime"), r->last_schedule);
  else ck_assert_ptr_null(js_get(w.status, "lastScheduleTime"));
  ck_assert(plan.status_first);
  rt_plan_free(&plan);
  json_decref(runs);
  json_decref(p);
}
END_TEST

/* The watermark moves past a tick only once its run exists: the plan that
 * makes the run keeps it, the next (the run remembered, not yet listed)
 * moves it; the tick is never made twice. */
START_TEST(plan_pipeline_watermark) {
  const struct pipeline_row *r = &pipeline_rows[4];
  ck_assert_str_eq(r->name, "a tick is due: its run is made");
  json_t *p = pipeline_object(r);
  json_t *runs = J("[]");
  pl_memo known, learned;
  memset(&known, 0, sizeof(known));
  rt_plan plan;
  rt_plan_init(&plan);
  pipeline_plan_of(p, runs, 1, &known, T("2026-03-01T12:10:00Z"), &plan, &learned);
  ck_assert_str_eq(js_str(plan.status, "lastScheduleTime"), AT11);
  ck_assert_uint_eq(learned.ncreated, 1);
  ck_assert_str_eq(learned.created[0].name, "etl-1772366400");
  ck_assert_str_eq(json_string_value(json_array_get(js_get(plan.status, "activeRuns"), 0)), "etl-1772366400");
  ck_assert_ptr_null(js_get(plan.actions[0].object, "spec.cluster"));
  json_object_set(p, "status", plan.status);
  rt_plan_free(&plan);
  /* A Pipeline placing its runs as a whole gives each its spec.cluster and
   * spec.placement. */
  json_t *placed = json_deep_copy(p);
  json_object_del(placed, "status");
  json_object_set_new(json_object_get(placed, "spec"), "cluster", json_string("gpu-east"));
  json_object_set_new(json_object_get(placed, "spec"), "placement", J("{'policy':'MostFreeGPUs'}"));
  rt_plan_init(&plan);
  pl_memo placed_learned;
  pipeline_plan_of(placed, runs, 1, &known, T("2026-03-01T12:10:00Z"), &plan, &placed_learned);
  ck_assert_str_eq(js_str(plan.actions[0].object, "spec.cluster"), "gpu-east");
  ck_assert_str_eq(js_str(plan.actions[0].object, "spec.placement.policy"), "MostFreeGPUs");
  rt_plan_free(&plan);
  json_decref(placed);

  rt_plan_init(&plan);
  pl_memo next;
  pipeline_plan_of(p, runs, 1, &learned, T("2026-03-01T12:10:05Z"), &plan, &next);
  said w;
  plan_words(&plan, &w);
  ck_assert_str_eq(w.actions, "");
  ck_assert_str_eq(w.events, "");
  ck_assert_str_eq(js_str(plan.status, "lastScheduleTime"), AT12);
  ck_assert_str_eq(json_string_value(json_array_get(js_get(plan.status, "activeRuns"), 0)), "etl-1772366400");
  rt_plan_free(&plan);
  json_decref(runs);
  json_decref(p);
}
END_TEST

/* Skipped ticks after a tick that gets a run are decided (and reported)
 * again by the next plan, so every skipped tick is reported once. */
START_TEST(plan_pipeline_skip_events) {
  const struct pipeline_row *r = &pipeline_rows[10];
  ck_assert_str_eq(r->name, "ticks past the deadline are skipped");
  json_t *p = pipeline_object(r);
  json_t *runs = J("[]");
  pl_memo known, learned;
  memset(&known, 0, sizeof(known));
  rt_plan plan;
  rt_plan_init(&plan);
  pipeline_plan_of(p, runs, 1, &known, T("2026-03-01T12:05:00Z"), &plan, &learned);
  said w;
  plan_words(&plan, &w);
  ck_assert_str_eq(w.messages, "created run etl-1772366400 for the tick at 2026-03-01T12:00:00Z\n"
                               "skipped 2 ticks from 2026-03-01T10:00:00Z to 2026-03-01T11:00:00Z: later than "
                               "startingDeadlineSeconds\n");
  rt_plan_free(&plan);
  json_decref(runs);
  json_decref(p);
}
END_TEST

/* The manager's "pipeline" section. */
static const struct {
  const char *json;
  const char *image; /* in effect, or NULL when refused */
  const char *err_part;
} config_rows[] = {
    {"null", PL_DEFAULT_READER_IMAGE, NULL},
    {"{\"outputReaderImage\":\"r.example.com/busybox:1\"}", "r.example.com/busybox:1", NULL},
    {"\"x\"", NULL, "pipeline: want a mapping"},
    {"{\"readerImage\":\"x\"}", NULL, "pipeline.readerImage: unknown setting"},
    {"{\"outputReaderImage\":\"\"}", NULL, "pipeline.outputReaderImage"},
    {"{\"outputReaderImage\":[\"x\"]}", NULL, "pipeline.outputReaderImage"},
};

START_TEST(manager_settings) {
  json_t *j = json_loads(config_rows[_i].json, JSON_DECODE_ANY, NULL);
  pl_config c;
  char err[256] = "";
  int rc = pl_config_parse(j, &c, err, sizeof(err));
  if (config_rows[_i].image) {
    ck_assert_int_eq(rc, 0);
    ck_assert_str_eq(c.output_reader_image, config_rows[_i].image);
  } else {
    ck_assert_int_eq(rc, CUBIT_EINVAL);
    ck_assert_msg(strstr(err, config_rows[_i].err_part), "%s: got \"%s\"", config_rows[_i].json, err);
  }
  json_decref(j);
}
END_TEST

int main(void) {
  Suite *s = suite_create("pipeline");
  TCase *tc;
  tc = tcase_create("schedule");
  tcase_add_test(tc, sched_backfill_window);
  tcase_add_test(tc, sched_max_active_runs);
  tcase_add_test(tc, sched_depends_on_past);
  tcase_add_test(tc, sched_after_a_crash);
  tcase_add_test(tc, sched_catchup_false);
  tcase_add_test(tc, sched_forbid);
  tcase_add_test(tc, sched_replace);
  tcase_add_test(tc, sched_starting_deadline);
  tcase_add_test(tc, sched_suspend_and_end);
  tcase_add_test(tc, sched_history_and_ttl);
  tcase_add_test(tc, sched_time_zones);
  tcase_add_test(tc, sched_batches);
  suite_add_tcase(s, tc);
  tc = tcase_create("executor");
  tcase_add_test(tc, step_diamond_order);
  tcase_add_test(tc, step_outputs_pending);
  tcase_add_test(tc, step_parallelism);
  tcase_add_test(tc, step_retries_then_fail_fast);
  tcase_add_test(tc, step_continue);
  tcase_add_test(tc, step_skip_and_when);
  tcase_add_test(tc, step_timeout);
  tcase_add_test(tc, step_retry_from_failure);
  tcase_add_test(tc, step_stop_and_resume);
  tcase_add_test(tc, step_retry_from_task);
  tcase_add_test(tc, step_stop_judges_finished);
  suite_add_tcase(s, tc);
  tc = tcase_create("tasks");
  tcase_add_test(tc, task_job_names);
  tcase_add_test(tc, task_work_mount_default);
  tcase_add_test(tc, task_trainingjob);
  tcase_add_test(tc, outputs_reader_round_trip);
  tcase_add_test(tc, outputs_reader_job);
  suite_add_tcase(s, tc);
  tc = tcase_create("plans");
  tcase_add_loop_test(tc, plan_pipelinerun, 0, N(run_rows));
  tcase_add_test(tc, plan_pipelinerun_start_snapshot);
  tcase_add_loop_test(tc, plan_pipelinerun_placed, 0, N(placed_rows));
  tcase_add_test(tc, plan_pipelinerun_placed_start);
  tcase_add_test(tc, plan_pipelinerun_unplaced);
  tcase_add_loop_test(tc, plan_templates, 0, N(template_rows));
  tcase_add_loop_test(tc, plan_pipeline, 0, N(pipeline_rows));
  tcase_add_test(tc, plan_pipeline_watermark);
  tcase_add_test(tc, plan_pipeline_skip_events);
  tcase_add_loop_test(tc, manager_settings, 0, N(config_rows));
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
