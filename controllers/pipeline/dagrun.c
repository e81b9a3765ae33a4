/* The DAG executor's step, as a pure function of the pipeline, the nodes'
 * states (from status.nodes), what the cache shows of each current attempt
 * (its TrainingJob) and the clock reading.
 *
 * Two passes: first every running node's attempt is judged (succeeded,
 * failed, timed out, to be retried), then pending nodes are decided in
 * topological order with what is now known — so a failure seen in this
 * step stops new starts under FailFast in the same step. */
#include <stdio.h>
#include <string.h>

#include "controllers/pipeline/pipeline.h"

static const char *phase_names[PL_NPHASES] = {"Pending", "Running", "Succeeded", "Failed", "Skipped", "Omitted"};

const char *pl_phase_name(pl_phase p) {
  return (unsigned)p < PL_NPHASES ? phase_names[p] : "Pending";
}

int pl_phase_parse(const char *s, pl_phase *out) {
  for (int i = 0; s && i < PL_NPHASES; i++)
    if (strcmp(s, phase_names[i]) == 0) {
      *out = (pl_phase)i;
      return 0;
    }
  *out = PL_PENDING;
  return CUBIT_EINVAL;
}

static int terminal(pl_phase p) {
  return p == PL_SUCCEEDED || p == PL_FAILED || p == PL_SKIPPED || p == PL_OMITTED;
}

static void wake_at(pl_step_out *out, int64_t t) {
  if (t > 0 && (out->wakeup == 0 || t < out->wakeup)) out->wakeup = t;
}

/* An attempt failed: retry after the backoff while the round's budget lasts
 * and FailFast has not stopped the run; otherwise the node fails. */
static void attempt_failed(const pl_task *t, pl_node *n, int64_t finished, const char *why, int stop_new,
                           const char *stopper, int64_t now, pl_step_out *out) {
  int used = n->attempts - n->first_attempt + 1 - n->stopped_attempts;
  if (used <= t->retry_limit && !stop_new) {
    n->retry_at = finished + t->backoff_s;
    if (n->retry_at < now) n->retry_at = now;
    snprintf(n->message, sizeof(n->message), "attempt %d failed: %.400s; retry %d of %d at +%llds", n->attempts, why,
             used, t->retry_limit, (long long)(n->retry_at - now));
    wake_at(out, n->retry_at);
    return;
  }
  n->phase = PL_FAILED;
  n->finish = finished > 0 ? finished : now;
  n->retry_at = 0;
  if (used <= t->retry_limit)
    snprintf(n->message, sizeof(n->message), "attempt %d failed: %.400s; not retried: task %s failed (failurePolicy "
             "FailFast)", n->attempts, why, stopper);
  else if (used > 1)
    snprintf(n->message, sizeof(n->message), "failed after %d attempts: %.440s", used, why);
  else
    snprintf(n->message, sizeof(n->message), "%.500s", why);
}

/* FailFast stopped the run while a node waited for its retry. */
static void retry_cancelled(pl_node *n, const char *stopper, int64_t now) {
  char before[sizeof(n->message)];
  snprintf(before, sizeof(before), "%s", n->message);
  char *cut = strstr(before, "; retry ");
  if (cut) *cut = '\0';
  n->phase = PL_FAILED;
  n->finish = now;
  n->retry_at = 0;
  snprintf(n->message, sizeof(n->message), "%.420s; not retried: task %s failed (failurePolicy FailFast)", before,
           stopper);
}

static void start_attempt(pl_node *n, int64_t now) {
  if (n->attempts < n->first_attempt - 1) n->attempts = n->first_attempt - 1;
  n->attempts++;
  n->retry_at = 0;
  n->action = PL_ACT_CREATE;
  n->job = PL_JOB_NONE;
  if (n->start == 0) n->start = now;
  n->phase = PL_RUNNING;
  snprintf(n->message, sizeof(n->message), "attempt %d", n->attempts);
}

/* Judges a running node's current attempt. */
static void judge(const pl_task *t, pl_node *n, int64_t now, int stop_new, const char *stopper, pl_step_out *out) {
  if (n->retry_at) {
    if (stop_new) {
      retry_cancelled(n, stopper, now);
      return;
    }
    if (now >= n->retry_at) start_attempt(n, now);
    else wake_at(out, n->retry_at);
    return;
  }
  switch (n->job) {
    case PL_JOB_NONE:
      /* Not in the cache (yet): create it; its name makes this idempotent. */
      n->action = PL_ACT_CREATE;
      return;
    case PL_JOB_ACTIVE:
      if (t->timeout_s > 0 && n->job_created > 0) {
        int64_t deadline = n->job_created + t->timeout_s;
        if (now >= deadline) {
          char why[80];
          snprintf(why, sizeof(why), "timed out after %llds (timeoutSeconds)", (long long)t->timeout_s);
          n->action = PL_ACT_STOP;
          attempt_failed(t, n, deadline, why, stop_new, stopper, now, out);
          return;
        }
        wake_at(out, deadline);
      }
      return;
    case PL_JOB_SUCCEEDED:
      if (n->outputs_pending) {
        snprintf(n->message, sizeof(n->message), "attempt %d succeeded; reading its outputs", n->attempts);
        return;
      }
      n->phase = PL_SUCCEEDED;
      n->finish = n->job_finished > 0 ? n->job_finished : now;
      n->message[0] = '\0';
      return;
    case PL_JOB_FAILED:
      attempt_failed(t, n, n->job_finished > 0 ? n->job_finished : now, n->job_message[0] ? n->job_message : "failed",
                     stop_new, stopper, now, out);
      return;
  }
}

void pl_dag_step(const pl_spec *s, pl_node *nodes, int64_t now, pl_when_fn when, void *arg, pl_step_out *out) {
  memset(out, 0, sizeof(*out));
  for (size_t i = 0; i < s->ntasks; i++) nodes[i].action = PL_ACT_NONE;
  /* The first failure (in topological order) stops new starts under FailFast. */
  const char *stopper = NULL;
  for (size_t k = 0; k < s->ntasks; k++)
    if (nodes[s->order[k]].phase == PL_FAILED && stopper == NULL) stopper = s->tasks[s->order[k]].name;

  /* Pass 1: running nodes. */
  for (size_t k = 0; k < s->ntasks; k++) {
    size_t i = s->order[k];
    if (nodes[i].phase != PL_RUNNING) continue;
    judge(&s->tasks[i], &nodes[i], now, s->fail_fast && stopper != NULL, stopper ? stopper : "", out);
    if (nodes[i].phase == PL_FAILED && stopper == NULL) {
      stopper = s->tasks[i].name;
      /* Nodes judged before this one were judged without knowing it. */
      if (s->fail_fast)
        for (size_t m = 0; m < k; m++) {
          pl_node *o = &nodes[s->order[m]];
          if (o->phase == PL_RUNNING && o->retry_at && o->action == PL_ACT_NONE) retry_cancelled(o, stopper, now);
        }
    }
  }
  int stop_new = s->fail_fast && stopper != NULL;
  int running = 0;
  for (size_t i = 0; i < s->ntasks; i++) running += nodes[i].phase == PL_RUNNING;

  /* Pass 2: pending nodes, in topological order. */
  for (size_t k = 0; k < s->ntasks; k++) {
    size_t i = s->order[k];
    pl_node *n = &nodes[i];
    const pl_task *t = &s->tasks[i];
    if (n->phase != PL_PENDING) continue;
    if (stop_new) {
      n->phase = PL_OMITTED;
      n->finish = now;
      snprintf(n->message, sizeof(n->message), "not started: task %s failed (failurePolicy FailFast)", stopper);
      continue;
    }
    int waiting = 0;
    const char *broken = NULL;
    for (size_t d = 0; d < t->ndeps; d++) {
      pl_phase dp = nodes[t->deps[d]].phase;
      if (dp == PL_FAILED || dp == PL_OMITTED) {
        if (broken == NULL) broken = s->tasks[t->deps[d]].name;
      } else if (!terminal(dp)) {
        waiting = 1;
      }
    }
    if (broken) {
      n->phase = PL_OMITTED;
      n->finish = now;
      snprintf(n->message, sizeof(n->message), "not started: its dependency %s %s", broken,
               nodes[pl_spec_task(s, broken)].phase == PL_FAILED ? "failed" : "was not run");
      continue;
    }
    if (waiting) continue;
    if (t->skip) {
      n->phase = PL_SKIPPED;
      n->start = n->finish = now;
      snprintf(n->message, sizeof(n->message), "skipped: skip is true");
      continue;
    }
    if (t->when) {
      char why[480] = "";
      int r = when(i, arg, why, sizeof(why));
      if (r < 0) {
        n->phase = PL_FAILED;
        n->start = n->finish = now;
        snprintf(n->message, sizeof(n->message), "when: %.480s", why);
        if (stopper == NULL) stopper = t->name;
        if (s->fail_fast) stop_new = 1;
        continue;
      }
      if (r == 0) {
        n->phase = PL_SKIPPED;
        n->start = n->finish = now;
        snprintf(n->message, sizeof(n->message), "skipped: when (%.440s) is false", t->when_src);
        continue;
      }
    }
    if (s->parallelism > 0 && running >= s->parallelism) {
      snprintf(n->message, sizeof(n->message), "waiting: %d tasks already run (parallelism)", running);
      continue;
    }
    start_attempt(n, now);
    running++;
  }

  /* Nodes marked Omitted above may have made others omittable: one more
   * pass settles chains (each pass settles at least one level). */
  for (int again = 1; again;) {
    again = 0;
    for (size_t k = 0; k < s->ntasks; k++) {
      size_t i = s->order[k];
      pl_node *n = &nodes[i];
      if (n->phase != PL_PENDING) continue;
      for (size_t d = 0; d < s->tasks[i].ndeps; d++) {
        size_t dep = s->tasks[i].deps[d];
        if (nodes[dep].phase == PL_FAILED || nodes[dep].phase == PL_OMITTED || stop_new) {
          n->phase = PL_OMITTED;
          n->finish = now;
          if (stop_new)
            snprintf(n->message, sizeof(n->message), "not started: task %s failed (failurePolicy FailFast)", stopper);
          else
            snprintf(n->message, sizeof(n->message), "not started: its dependency %s %s", s->tasks[dep].name,
                     nodes[dep].phase == PL_FAILED ? "failed" : "was not run");
          again = 1;
          break;
        }
      }
    }
  }

  /* The run's phase. */
  int active = 0, failed = 0;
  out->total = s->ntasks;
  for (size_t k = 0; k < s->ntasks; k++) {
    size_t i = s->order[k];
    if (terminal(nodes[i].phase)) out->done++;
    else active = 1;
    if (nodes[i].phase == PL_FAILED && !failed) {
      failed = 1;
      snprintf(out->message, sizeof(out->message), "task %s failed: %.560s", s->tasks[i].name, nodes[i].message);
    }
  }
  out->run_phase = active ? PL_RUNNING : failed ? PL_FAILED : PL_SUCCEEDED;
}

/* A node back to Pending for a new round of attempts. */
static void new_round(pl_node *node, const char *why) {
  node->phase = PL_PENDING;
  node->first_attempt = node->attempts + 1;
  node->stopped_attempts = 0;
  node->retry_at = 0;
  node->finish = 0;
  node->start = 0;
  snprintf(node->message, sizeof(node->message), "%s", why);
}

size_t pl_dag_retry(const pl_spec *s, pl_node *nodes) {
  size_t n = 0;
  for (size_t i = 0; i < s->ntasks; i++) {
    pl_node *node = &nodes[i];
    if (node->phase != PL_FAILED && node->phase != PL_OMITTED) continue;
    new_round(node, "retrying the run (" PL_RETRY_ANNOTATION ")");
    n++;
  }
  return n;
}

size_t pl_dag_retry_from(const pl_spec *s, pl_node *nodes, size_t from, int *reset) {
  size_t n = 0;
  for (size_t i = 0; i < s->ntasks; i++) reset[i] = i == from;
  /* In topological order a task comes after its dependencies: one pass
   * marks everything downstream. */
  for (size_t k = 0; k < s->ntasks; k++) {
    size_t i = s->order[k];
    for (size_t d = 0; d < s->tasks[i].ndeps && !reset[i]; d++) reset[i] = reset[s->tasks[i].deps[d]];
  }
  char why[sizeof(nodes[0].message)];
  snprintf(why, sizeof(why), "retrying from task %s (%s)", s->tasks[from].name, PL_RETRY_FROM_ANNOTATION);
  for (size_t i = 0; i < s->ntasks; i++)
    if (reset[i]) {
      new_round(&nodes[i], why);
      n++;
    }
  return n;
}

/* A node whose next attempt waits for the run to resume: 'why' says what
 * became of the current one. */
static void wait_for_resume(pl_node *n, const char *why) {
  char before[sizeof(n->message)];
  snprintf(before, sizeof(before), "%s", why);
  char *cut = strstr(before, "; retry ");
  if (cut) *cut = '\0';
  n->phase = PL_PENDING;
  n->retry_at = 0;
  snprintf(n->message, sizeof(n->message), "%.380s; stopped with the run: attempt %d starts when it is resumed", before,
           n->attempts + 1);
}

void pl_dag_stop(const pl_spec *s, pl_node *nodes, int64_t now, pl_step_out *out) {
  memset(out, 0, sizeof(*out));
  out->total = s->ntasks;
  for (size_t k = 0; k < s->ntasks; k++) {
    size_t i = s->order[k];
    pl_node *n = &nodes[i];
    n->action = PL_ACT_NONE;
    if (n->phase == PL_RUNNING) {
      char why[sizeof(n->message)];
      if (n->retry_at) {
        /* The failed attempt counts; the backoff is over once resumed. */
        wait_for_resume(n, n->message);
      } else if (n->job == PL_JOB_SUCCEEDED || n->job == PL_JOB_FAILED) {
        /* It ended before the stop: judged as ever, without starting a
         * retry now. */
        judge(&s->tasks[i], n, now, 0, "", out);
        if (n->phase == PL_RUNNING && n->retry_at) wait_for_resume(n, n->message);
      } else {
        snprintf(why, sizeof(why), "attempt %d stopped", n->attempts);
        n->stopped_attempts++;
        wait_for_resume(n, why);
      }
    }
    if (terminal(n->phase)) out->done++;
  }
  /* Timers of retries are not for a stopped run. */
  out->wakeup = 0;
  out->run_phase = PL_RUNNING;
}
