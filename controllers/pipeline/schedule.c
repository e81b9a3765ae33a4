/* The scheduler's decision, as a pure function of the schedule, the clock
 * reading, the watermark and the runs that exist.
 *
 * Every tick is handled once, oldest first: it gets a run, or it is skipped
 * for a reason (startingDeadlineSeconds, catchup: false, Forbid, Replace),
 * or it waits — and every tick after it waits too, so ticks always start in
 * order. The watermark (status.lastScheduleTime) is the newest tick handled;
 * a run's name carries its tick, so a tick that got a run before a crash is
 * recognised by its name and never run twice. */
#include <stdio.h>
#include <string.h>

#include "controllers/pipeline/pipeline.h"

void pl_run_name(const char *pipeline, int64_t tick, char *out, size_t len) {
  snprintf(out, len, "%s-%lld", pipeline, (long long)tick);
}

typedef struct state {
  const pl_sched_in *in;
  pl_sched_out *out;
  unsigned char deleted[4096]; /* per run index (runs beyond it are never deleted) */
} state;

static int is_deleted(const state *st, size_t i) {
  return i < sizeof(st->deleted) && st->deleted[i];
}

static void delete_run(state *st, size_t i, pl_delete_reason why) {
  if (i >= sizeof(st->deleted) || st->deleted[i] || st->out->ndel == PL_SCHED_BATCH) return;
  st->deleted[i] = 1;
  st->out->del[st->out->ndel].run = i;
  st->out->del[st->out->ndel].reason = why;
  st->out->ndel++;
}

static void skip(pl_sched_out *out, pl_skip_reason why, int64_t tick) {
  /* A decision handles at most one batch of ticks, so the list has room. */
  if (out->nskips < PL_SCHED_BATCH) {
    out->skips[out->nskips].tick = tick;
    out->skips[out->nskips].why = why;
    out->nskips++;
  }
  if (out->skipped[why] == 0) out->first_skipped[why] = tick;
  out->last_skipped[why] = tick;
  out->skipped[why]++;
  out->watermark = tick;
}

static const pl_sched_run *run_of_tick(const state *st, int64_t tick) {
  for (size_t i = 0; i < st->in->nruns; i++)
    if (st->in->runs[i].tick == tick && !is_deleted(st, i)) return &st->in->runs[i];
  return NULL;
}

static void wake_at(pl_sched_out *out, int64_t t) {
  if (t > 0 && (out->wakeup == 0 || t < out->wakeup)) out->wakeup = t;
}

/* The runs that are active now: existing ones not deleted, and the ticks
 * created in this decision. *newest_created: the latest creation among them. */
static int count_active(const state *st, int64_t *newest_created, const char **newest_name) {
  int n = 0;
  *newest_created = 0;
  *newest_name = NULL;
  for (size_t i = 0; i < st->in->nruns; i++) {
    const pl_sched_run *r = &st->in->runs[i];
    if (r->state != PL_RUN_ACTIVE || is_deleted(st, i)) continue;
    n++;
    if (r->created >= *newest_created) {
      *newest_created = r->created;
      *newest_name = r->name;
    }
  }
  if (st->out->ncreate) {
    n += (int)st->out->ncreate;
    *newest_created = st->in->now;
    *newest_name = NULL;
  }
  return n;
}

/* The newest run for a tick before t: an existing one (*existing), or one
 * created in this decision (*created_now). 0 when there is none. */
static int previous_run(const state *st, int64_t t, const pl_sched_run **existing, int *created_now) {
  int64_t best = 0;
  *existing = NULL;
  *created_now = 0;
  for (size_t i = 0; i < st->out->ncreate; i++)
    if (st->out->create[i] < t && st->out->create[i] > best) {
      best = st->out->create[i];
      *created_now = 1;
    }
  for (size_t i = 0; i < st->in->nruns; i++) {
    const pl_sched_run *r = &st->in->runs[i];
    if (is_deleted(st, i) || r->tick >= t || r->tick <= best) continue;
    best = r->tick;
    *existing = r;
    *created_now = 0;
  }
  return best > 0;
}

static void handle_ticks(state *st) {
  const pl_sched_in *in = st->in;
  const pl_schedule *s = in->s;
  pl_sched_out *out = st->out;
  int64_t from = in->watermark > 0 ? in->watermark : s->start > 0 ? s->start - 1 : in->created;
  if (s->start > 0 && from < s->start - 1) from = s->start - 1;
  int64_t to = in->now;
  if (s->end > 0 && s->end < to) to = s->end;
  if (to <= from) return;
  int64_t ticks[PL_SCHED_BATCH];
  int n = cron_ticks(s->cron, s->zone, from, to, ticks, PL_SCHED_BATCH);
  if (n <= 0) return;
  /* A full batch may hide newer due ticks: none of this batch is the latest. */
  int more = 0;
  if (n == PL_SCHED_BATCH) {
    int64_t after = cron_next(s->cron, s->zone, ticks[n - 1]);
    more = after > 0 && after <= to;
  }
  int64_t latest = more ? -1 : ticks[n - 1];
  for (int k = 0; k < n; k++) {
    int64_t t = ticks[k];
    if (run_of_tick(st, t)) { /* made before a crash, or by an earlier decision */
      out->watermark = t;
      continue;
    }
    if (s->deadline_s >= 0 && in->now - t > s->deadline_s) {
      skip(out, PL_SKIP_DEADLINE, t);
      continue;
    }
    if (!s->catchup && t > in->created && t != latest) {
      skip(out, PL_SKIP_CATCHUP, t);
      continue;
    }
    if (s->policy == PL_REPLACE && t != latest && !s->depends_on_past) {
      skip(out, PL_SKIP_SUPERSEDED, t);
      continue;
    }
    if (s->depends_on_past) {
      const pl_sched_run *prev;
      int created_now;
      if (previous_run(st, t, &prev, &created_now)) {
        if (created_now || prev->state == PL_RUN_ACTIVE) {
          snprintf(out->waiting, sizeof(out->waiting), "waiting for run %s to finish (dependsOnPast)",
                   prev ? prev->name : "of the previous tick");
          break;
        }
        if (prev->state == PL_RUN_FAILED) {
          snprintf(out->waiting, sizeof(out->waiting),
                   "run %s failed: dependsOnPast holds every later tick until it succeeds "
                   "(retry it with the cubit.dev/retry annotation, or delete it)",
                   prev->name);
          out->blocked_by_failure = 1;
          break;
        }
      }
    }
    int64_t newest_created;
    const char *newest_name;
    int active = count_active(st, &newest_created, &newest_name);
    if (s->policy == PL_REPLACE && active > 0) {
      for (size_t i = 0; i < in->nruns; i++)
        if (in->runs[i].state == PL_RUN_ACTIVE) delete_run(st, i, PL_DELETE_REPLACED);
      active = count_active(st, &newest_created, &newest_name);
    }
    if (s->policy == PL_FORBID && active > 0) {
      if (t > newest_created) {
        skip(out, PL_SKIP_FORBID, t);
        continue;
      }
      snprintf(out->waiting, sizeof(out->waiting), "waiting for run %s to finish (concurrencyPolicy Forbid)",
               newest_name ? newest_name : "started just now");
      break;
    }
    if (s->depends_on_past && active > 0) {
      snprintf(out->waiting, sizeof(out->waiting), "waiting for the active run to finish (dependsOnPast)");
      break;
    }
    if (s->max_active > 0 && active >= s->max_active) {
      snprintf(out->waiting, sizeof(out->waiting), "maxActiveRuns (%d) reached", s->max_active);
      break;
    }
    if (out->ncreate == PL_SCHED_BATCH) break;
    if (out->ncreate == 0) out->settled = out->watermark;
    out->create[out->ncreate++] = t;
    out->watermark = t;
  }
  /* More ticks are due than one batch holds: carry on at once. */
  if (more && out->waiting[0] == '\0') wake_at(out, in->now);
}

/* Finished runs beyond the history limits or past their TTL. */
static void expire_runs(state *st) {
  const pl_sched_in *in = st->in;
  const pl_schedule *s = in->s;
  /* dependsOnPast reads the newest run: it is never removed. */
  size_t keep = (size_t)-1;
  if (s->depends_on_past)
    for (size_t i = 0; i < in->nruns; i++)
      if (keep == (size_t)-1 || in->runs[i].tick > in->runs[keep].tick) keep = i;
  for (size_t i = 0; i < in->nruns; i++) {
    const pl_sched_run *r = &in->runs[i];
    if (r->state == PL_RUN_ACTIVE || i == keep || is_deleted(st, i)) continue;
    if (s->ttl_s >= 0 && r->finished > 0) {
      if (r->finished + s->ttl_s <= in->now) delete_run(st, i, PL_DELETE_TTL);
      else wake_at(st->out, r->finished + s->ttl_s);
    }
  }
  for (int state_kind = PL_RUN_SUCCEEDED; state_kind <= PL_RUN_FAILED; state_kind++) {
    int limit = state_kind == PL_RUN_SUCCEEDED ? s->keep_succeeded : s->keep_failed;
    /* Keep the 'limit' newest (by tick) of this state; delete the rest. */
    for (size_t i = 0; i < in->nruns; i++) {
      const pl_sched_run *r = &in->runs[i];
      if (r->state != state_kind || i == keep || is_deleted(st, i)) continue;
      int newer = 0;
      for (size_t j = 0; j < in->nruns; j++) {
        const pl_sched_run *o = &in->runs[j];
        if (j == i || o->state != state_kind || is_deleted(st, j)) continue;
        if (o->tick > r->tick || (o->tick == r->tick && j < i)) newer++;
      }
      if (newer >= limit) delete_run(st, i, PL_DELETE_HISTORY);
    }
  }
}

void pl_schedule_decide(const pl_sched_in *in, pl_sched_out *out) {
  memset(out, 0, sizeof(*out));
  state *st = &(state){0};
  st->in = in;
  st->out = out;
  out->watermark = in->watermark;
  const pl_schedule *s = in->s;
  if (!s->suspend) handle_ticks(st);
  if (out->ncreate == 0) out->settled = out->watermark;
  expire_runs(st);
  if (!s->suspend) {
    int64_t base = in->now > out->watermark ? in->now : out->watermark;
    int64_t next = cron_next(s->cron, s->zone, base);
    if (next > 0 && (s->end == 0 || next <= s->end)) {
      out->next_tick = next;
      wake_at(out, next);
    }
  }
}
