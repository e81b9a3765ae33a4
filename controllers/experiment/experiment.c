/* The Experiment controller: gather the Experiment, its trial TrainingJobs
 * and their pods from the cache, read the metrics of the trials that need
 * it (pods/log, synchronously in the worker, or the termination message
 * from the cache), plan (plan.c), and let the runtime execute. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/labels.h"
#include "api/trainingjob/trainingjob.h"
#include "controllers/experiment/experiment.h"
#include "runtime/controller.h"
#include "runtime/members.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/time.h"

/* Bytes of a pod's log read at most, and from how many last lines. */
#define LOG_LIMIT_BYTES HPO_METRICS_MAX_BYTES
#define LOG_TAIL_LINES 20000
/* A log read holds a worker: a server that stops answering gives it back
 * after this long (the read is retried like any failed one). */
#define LOG_TIMEOUT_MS 20000L
/* A finished trial whose log cannot be read is retried this long. */
#define READ_GRACE_S 300

/* What the controller remembers of its own creations, because the cache
 * may trail them (controller-runtime's expectations): per Experiment uid,
 * the highest trial number created. Bounded: the oldest entry goes. */
#define MEMO_MAX 1024

typedef struct memo_entry {
  char uid[64];
  int64_t number;
  uint64_t used; /* when last touched (a counter) */
} memo_entry;

typedef struct exp_ctl {
  pthread_mutex_t lock;
  memo_entry memo[MEMO_MAX];
  size_t n;
  uint64_t clock;
} exp_ctl;

static int64_t memo_get(exp_ctl *c, const char *uid) {
  int64_t v = 0;
  pthread_mutex_lock(&c->lock);
  for (size_t i = 0; i < c->n; i++)
    if (strcmp(c->memo[i].uid, uid) == 0) {
      v = c->memo[i].number;
      c->memo[i].used = ++c->clock;
    }
  pthread_mutex_unlock(&c->lock);
  return v;
}

static void memo_put(exp_ctl *c, const char *uid, int64_t number) {
  pthread_mutex_lock(&c->lock);
  size_t at = c->n;
  for (size_t i = 0; i < c->n; i++)
    if (strcmp(c->memo[i].uid, uid) == 0) at = i;
  if (at == c->n && c->n == MEMO_MAX) {
    at = 0;
    for (size_t i = 1; i < c->n; i++)
      if (c->memo[i].used < c->memo[at].used) at = i;
  } else if (at == c->n) {
    c->n++;
  }
  if (strcmp(c->memo[at].uid, uid) != 0) { /* a new entry, or the oldest one replaced */
    snprintf(c->memo[at].uid, sizeof(c->memo[at].uid), "%s", uid);
    c->memo[at].number = 0;
  }
  if (number > c->memo[at].number) c->memo[at].number = number;
  c->memo[at].used = ++c->clock;
  pthread_mutex_unlock(&c->lock);
}

static void ctl_free(void *arg) {
  exp_ctl *c = arg;
  pthread_mutex_destroy(&c->lock);
  free(c);
}

typedef struct exp_gathered {
  exp_observed in;
  exp_spec spec;
  char spec_error[600];
  json_t *tmpl;
  cache_list trials;
  exp_observed_trial *observed;
} exp_gathered;

static json_t *cached(const rt_ctx *ctx, const kube_resource *r, const char *ns, const char *name) {
  cache_store *store = rt_store(ctx, r);
  return store ? cache_store_get(store, ns, name) : NULL;
}

/* The pods of one trial, from the shared pod cache (borrowed references
 * into 'all'). */
static size_t trial_pods(const cache_list *all, const char *trial, const json_t **out) {
  size_t n = 0;
  for (size_t i = 0; i < all->len; i++) {
    const char *owner = json_string_value(json_object_get(js_get(all->items[i], "metadata.labels"), TJ_LABEL));
    if (owner && strcmp(owner, trial) == 0) out[n++] = all->items[i];
  }
  return n;
}

typedef struct log_sink {
  char *data;
  size_t len;
} log_sink;

static int log_chunk(const char *data, size_t len, void *arg) {
  log_sink *s = arg;
  if (s->len + len > LOG_LIMIT_BYTES) len = LOG_LIMIT_BYTES - s->len;
  s->data = xrealloc(s->data, s->len + len + 1);
  memcpy(s->data + s->len, data, len);
  s->len += len;
  s->data[s->len] = '\0';
  return s->len >= LOG_LIMIT_BYTES;
}

/* The member cluster a trial was placed on, or NULL for the hub. */
static const char *trial_cluster(const json_t *trial) {
  const char *c = js_str(trial, "status.cluster");
  return c && *c && strcmp(c, "local") != 0 ? c : NULL;
}

/* Reads a trial's metrics into p: the termination message (cache) or the
 * log of its container (one GET, bounded). */
static void read_metrics(const rt_ctx *ctx, const exp_spec *s, const json_t *trial, const cache_list *pods,
                         int64_t now, exp_trial_probe *p) {
  p->wanted = 1;
  const json_t **mine = xcalloc(pods->len + 1, sizeof(*mine));
  size_t n = trial_pods(pods, js_name(trial), mine);
  const json_t *pod = exp_trial_pod(mine, n);
  free(mine);
  tj_spec ts;
  char why[300];
  const char *container = tj_spec_parse(trial, &ts, why, sizeof(why)) == 0 ? tj_container_name(ts.framework) : "main";
  const char *names[HPO_METRICS_MAX_SERIES];
  size_t nnames = 0;
  names[nnames++] = s->objective.metric;
  for (size_t i = 0; i < s->objective.nadditional && nnames < HPO_METRICS_MAX_SERIES; i++)
    names[nnames++] = s->objective.additional[i];
  if (pod == NULL) {
    snprintf(p->error, sizeof(p->error), "no pod of the trial is left to read its metrics from");
    return;
  }
  const char *phase = js_str(pod, "status.phase");
  p->complete = phase && (strcmp(phase, "Succeeded") == 0 || strcmp(phase, "Failed") == 0);
  if (s->metrics_source == EXP_METRICS_FILE) {
    const char *msg = exp_termination_message(pod, container);
    hpo_metrics_parse(msg, msg ? strlen(msg) : 0, s->metrics_format, 1, names, nnames, &p->metrics);
    p->read = 1;
    return;
  }
  char *path = xasprintf("/api/v1/namespaces/%s/pods/%s/log?container=%s&tailLines=%d&limitBytes=%d",
                         js_namespace(pod), js_name(pod), container, LOG_TAIL_LINES, LOG_LIMIT_BYTES);
  log_sink sink = {0};
  kube_status st;
  memset(&st, 0, sizeof(st));
  /* A trial placed on a member cluster (docs/multicluster.md): its pods
   * and their logs are there, read through the hub's client for it. */
  const char *cluster = trial_cluster(trial);
  kube_client *client = ctx->client;
  rt_member *member = NULL;
  int rc = CUBIT_ECONNECT;
  if (cluster) member = rt_member_acquire(ctx, cluster, &client);
  if (cluster == NULL || member)
    rc = kube_request_stream_within(client, path, LOG_TIMEOUT_MS, log_chunk, &sink, &st);
  else
    snprintf(st.message, sizeof(st.message), "cluster %s is not connected", cluster);
  if (member) rt_member_put(member);
  free(path);
  if (rc == 0) {
    hpo_metrics_parse(sink.data, sink.len, s->metrics_format, p->complete, names, nnames, &p->metrics);
    p->read = 1;
  } else {
    int64_t done = js_time(trial, "status.completionTime");
    snprintf(p->error, sizeof(p->error), "reading the log of pod %.60s: %.160s", js_name(pod),
             st.message[0] ? st.message : cubit_strerror(rc));
    p->retry = rc != CUBIT_ENOTFOUND && (done == 0 || now - done < READ_GRACE_S);
  }
  free(sink.data);
}

static void gather(const rt_ctx *ctx, const json_t *exp, exp_gathered *g) {
  memset(g, 0, sizeof(*g));
  const char *ns = js_namespace(exp);
  g->in.experiment = exp;
  g->in.now = time_wall_s();
  g->in.spec_error = g->spec_error;
  if (exp_spec_parse(exp, &g->spec, g->spec_error, sizeof(g->spec_error))) return;
  g->in.spec = &g->spec;
  if (g->spec.source == EXP_TEMPLATE_REF)
    g->tmpl = g->spec.ref_kind == PL_TEMPLATE_CLUSTER ? cached(ctx, &pl_clusterjobtemplate_resource, NULL, g->spec.ref_name)
                                                      : cached(ctx, &pl_jobtemplate_resource, ns, g->spec.ref_name);
  g->in.tmpl = g->tmpl;
  cache_store *tjs = rt_store(ctx, &trainingjob_resource);
  if (tjs) cache_store_by_index(tjs, CACHE_INDEX_OWNER, js_uid(exp), &g->trials);
  g->observed = xcalloc(g->trials.len + 1, sizeof(*g->observed));
  cache_store *ps = rt_store(ctx, &kube_pods);
  for (size_t i = 0; i < g->trials.len; i++) {
    g->observed[i].tj = g->trials.items[i];
    if (!exp_trial_wants_metrics(&g->spec, g->trials.items[i])) continue;
    cache_list pods = {0}; /* the trial's own, keep_trial_pods below picks them */
    const char *cluster = trial_cluster(g->trials.items[i]);
    if (cluster) {
      if (rt_member_list(ctx, cluster, &kube_pods, ns, &pods)) memset(&pods, 0, sizeof(pods));
    } else if (ps) {
      cache_store_by_namespaced_label(ps, TJ_LABEL, ns, js_name(g->trials.items[i]), &pods);
    }
    read_metrics(ctx, &g->spec, g->trials.items[i], &pods, g->in.now, &g->observed[i].probe);
    cache_list_free(&pods);
  }
  g->in.trials = g->observed;
  g->in.ntrials = g->trials.len;
}

static void gathered_free(exp_gathered *g) {
  for (size_t i = 0; i < g->trials.len && g->observed; i++) hpo_metrics_free(&g->observed[i].probe.metrics);
  free(g->observed);
  cache_list_free(&g->trials);
  json_decref(g->tmpl);
  exp_spec_free(&g->spec);
}

static rt_result reconcile(const rt_ctx *ctx, const rt_request *req) {
  json_t *exp = cached(ctx, &experiment_resource, req->ns, req->name);
  if (exp == NULL || js_get(exp, "metadata.deletionTimestamp")) {
    json_decref(exp);
    return rt_ok(); /* garbage collection removes the trials */
  }
  exp_ctl *c = ctx->arg;
  exp_gathered g;
  gather(ctx, exp, &g);
  g.in.created_up_to = memo_get(c, js_uid(exp));
  rt_plan plan;
  rt_plan_init(&plan);
  int64_t created = 0;
  exp_plan(&g.in, &plan, &created);
  rt_result result = rt_execute(ctx, &experiment_resource, exp, &plan);
  /* Only when every action went through: a trial refused (quota) must be
   * asked for again, not waited for. */
  if ((result.kind == RT_OK || result.kind == RT_REQUEUE_AFTER) && created > 0) memo_put(c, js_uid(exp), created);
  rt_plan_free(&plan);
  gathered_free(&g);
  json_decref(exp);
  return result;
}

int experiment_controller_register(rt_manager *m) {
  rt_controller_def def = {0};
  def.name = "experiment";
  def.primary = &experiment_resource;
  def.owns[0] = &trainingjob_resource;
  /* Read, not watched: a trial's pods change its TrainingJob's status
   * (owned), and a missing template is looked for again on a timer. */
  def.reads[0] = &kube_pods;
  def.reads[1] = &pl_jobtemplate_resource;
  def.reads[2] = &pl_clusterjobtemplate_resource;
  def.workers = 2;
  def.reconcile = reconcile;
  exp_ctl *c = xcalloc(1, sizeof(*c));
  pthread_mutex_init(&c->lock, NULL);
  def.arg = c;
  def.free_arg = ctl_free;
  int rc = rt_manager_add_controller(m, &def);
  if (rc) {
    ctl_free(c);
    return rc;
  }
  rt_manager_index_label(m, &kube_pods, TJ_LABEL); /* a trial's pods */
  return 0;
}
