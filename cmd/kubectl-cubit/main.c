/* kubectl-cubit: the commands (docs/cli.md). Reads the kubeconfig as kubectl
 * does (pkg/kube), talks to the API server, prints, and exits with the
 * codes of cli.h. */
#include <curl/curl.h>
#include <errno.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api/inferenceservice/inferenceservice.h"
#include "api/notebook/notebook.h"
#include "api/pipeline/pipeline.h"
#include "api/trainingjob/trainingjob.h"
#include "api/labels.h"
#include "cli.h"
#include "kube/client.h"
#include "kube/config.h"
#include "runtime/conditions.h"
#include "util/buf.h"
#include "util/cron.h"
#include "util/alloc.h"
#include "util/json.h"
#include "util/time.h"

/* The PipelineRun controller's (controllers/pipeline/pipeline.h), which the
 * command line does not link: a new value retries a Failed run once. */
#define CLI_RETRY_ANNOTATION "cubit.dev/retry"
/* With it: retry from this task (it and everything downstream). */
#define CLI_RETRY_FROM_ANNOTATION "cubit.dev/retry-from"

/* The Experiment kind (docs/experiment.md) is being built: the command line
 * names its resource itself and reads its objects defensively. While its
 * CRD is not installed, an Experiment is simply not found. */
static const kube_resource experiment_resource = {"cubit.dev", "v1alpha1", "experiments", "Experiment", 1};

typedef struct cli {
  const cli_args *a;
  kube_config cfg;
  kube_client *client;
  const char *ns;
  pthread_mutex_t out_lock; /* one writer to stdout at a time: whole lines */
} cli;

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("kubectl-cubit: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

/* The kinds a name may be, in the order a bare name is looked up. */
typedef struct kind_alias {
  const kube_resource *r;
  const char *names[4];
} kind_alias;

static const kind_alias kinds[] = {
    {&pl_pipelinerun_resource, {"pipelinerun", "plr", "pipelineruns", NULL}},
    {&trainingjob_resource, {"trainingjob", "tj", "trainingjobs", NULL}},
    {&notebook_resource, {"notebook", "nb", "notebooks", NULL}},
    {&inference_resource, {"inferenceservice", "isvc", "inferenceservices", NULL}},
    {&experiment_resource, {"experiment", "exp", "experiments", NULL}},
};

static int allowed(const kube_resource *r, const kube_resource *const *want, size_t nwant) {
  for (size_t i = 0; i < nwant; i++)
    if (want[i] == r) return 1;
  return 0;
}

/* "; did you mean KIND/NAME?" from the objects of the kinds looked in, or
 * nothing when none is close (or listing them fails: the hint is a bonus). */
static void suggest(cli *c, const kube_resource *const *want, size_t nwant, const kube_resource *only,
                    const char *name, char *hint, size_t len) {
  json_t *names = json_array();
  json_t *kinds_of = json_array();
  for (size_t i = 0; i < nwant; i++) {
    if (only && want[i] != only) continue;
    json_t *l = NULL;
    if (kube_list_all(c->client, want[i], c->ns, NULL, &l, NULL)) continue;
    size_t k;
    json_t *o;
    json_array_foreach(json_object_get(l, "items"), k, o) if (js_name(o)) {
      json_array_append_new(names, json_string(js_name(o)));
      json_array_append_new(kinds_of, json_string(want[i]->kind));
    }
    json_decref(l);
  }
  size_t n = json_array_size(names);
  const char **v = xcalloc(n ? n : 1, sizeof(*v));
  for (size_t i = 0; i < n; i++) v[i] = json_string_value(json_array_get(names, i));
  const char *best = cli_suggest(v, n, name);
  for (size_t i = 0; best && i < n; i++)
    if (v[i] == best) snprintf(hint, len, "; did you mean %s %s?", json_string_value(json_array_get(kinds_of, i)), best);
  free(v);
  json_decref(names);
  json_decref(kinds_of);
}

/* Finds NAME (or KIND/NAME) among the kinds the command takes. On success
 * *obj is the object (caller's) and *r its kind. */
static int resolve(cli *c, const char *arg, const kube_resource *const *want, size_t nwant, const kube_resource **r,
                   json_t **obj) {
  *obj = NULL;
  const char *slash = strchr(arg, '/'), *name = slash ? slash + 1 : arg;
  const kube_resource *only = NULL;
  if (slash) {
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]) && !only; i++)
      for (size_t k = 0; kinds[i].names[k]; k++)
        if (strlen(kinds[i].names[k]) == (size_t)(slash - arg) && strncasecmp(kinds[i].names[k], arg, (size_t)(slash - arg)) == 0)
          only = kinds[i].r;
    if (only == NULL || !allowed(only, want, nwant)) {
      fail("%s: \"%.*s\" is not a kind %s takes", arg, (int)(slash - arg), arg, c->a->cmd_name);
      return CLI_EXIT_USAGE;
    }
  }
  char tried[256] = "";
  size_t tn = 0;
  for (size_t i = 0; i < nwant; i++) {
    if (only && want[i] != only) continue;
    kube_status st;
    json_t *o = NULL;
    int rc = kube_get(c->client, want[i], c->ns, name, &o, &st);
    if (rc == 0) {
      *obj = o;
      *r = want[i];
      return 0;
    }
    if (rc != CUBIT_ENOTFOUND) {
      fail("reading %s %s in namespace %s: %s", want[i]->kind, name, c->ns, st.message);
      return CLI_EXIT_ERROR;
    }
    tn += (size_t)snprintf(tried + tn, sizeof(tried) - tn, "%s%s", tn ? " or " : "", want[i]->kind);
    if (tn >= sizeof(tried)) tn = sizeof(tried) - 1;
  }
  char hint[320] = "";
  suggest(c, want, nwant, only, name, hint, sizeof(hint));
  fail("no %s named %s in namespace %s%s", tried, name, c->ns, hint);
  return CLI_EXIT_NOTFOUND;
}

static int list(cli *c, const kube_resource *r, const char *selector, json_t **items) {
  kube_list_options o = {.label_selector = selector};
  kube_status st;
  json_t *l = NULL;
  *items = NULL;
  if (kube_list_all(c->client, r, c->ns, &o, &l, &st)) {
    fail("listing %s (%s) in namespace %s: %s", r->resource, selector, c->ns, st.message);
    return CLI_EXIT_ERROR;
  }
  *items = json_incref(json_object_get(l, "items"));
  json_decref(l);
  if (*items == NULL) *items = json_array();
  return 0;
}

static void print_buf(cli *c, cubit_buf *b) {
  pthread_mutex_lock(&c->out_lock);
  if (b->len) fwrite(b->data, 1, b->len, stdout);
  fflush(stdout);
  pthread_mutex_unlock(&c->out_lock);
}

static int print_data(cli *c, const json_t *v);

/* ---------------------------------------------------------- get / watch */

static int render_object(cli *c, const kube_resource *r, const json_t *obj, cubit_buf *out) {
  char sel[320];
  json_t *items = NULL;
  int rc;
  if (r == &pl_pipelinerun_resource) {
    snprintf(sel, sizeof(sel), "cubit.dev/pipelinerun=%s", js_name(obj));
    if ((rc = list(c, &trainingjob_resource, sel, &items))) return rc;
    rc = cli_render_run(obj, items, time_wall_s(), c->a->output == CLI_OUT_WIDE, out);
  } else if (r == &experiment_resource) {
    snprintf(sel, sizeof(sel), "%s=%s", CUBIT_LABEL_EXPERIMENT, js_name(obj));
    if ((rc = list(c, &trainingjob_resource, sel, &items))) return rc;
    rc = cli_render_experiment(obj, items, time_wall_s(), c->a->output == CLI_OUT_WIDE, out);
  } else {
    snprintf(sel, sizeof(sel), "%s=%s", TJ_LABEL, js_name(obj));
    if ((rc = list(c, &kube_pods, sel, &items))) return rc;
    rc = cli_render_trainingjob(obj, items, time_wall_s(), c->a->output == CLI_OUT_WIDE, out);
  }
  json_decref(items);
  if (rc) fail("out of memory");
  return rc ? CLI_EXIT_ERROR : 0;
}

static int cmd_get(cli *c) {
  const kube_resource *want[] = {&pl_pipelinerun_resource, &trainingjob_resource, &experiment_resource}, *r;
  json_t *obj;
  int rc = resolve(c, c->a->name, want, 3, &r, &obj);
  if (rc) return rc;
  if (c->a->output == CLI_OUT_JSON || c->a->output == CLI_OUT_YAML) {
    /* The object as the API server has it, as kubectl get -o json prints it. */
    rc = print_data(c, obj);
    json_decref(obj);
    return rc;
  }
  cubit_buf out;
  buf_init(&out, 64 << 20);
  rc = render_object(c, r, obj, &out);
  if (rc == 0) print_buf(c, &out);
  buf_free(&out);
  json_decref(obj);
  return rc;
}

/* Redraws the run's tree until it ends: on a terminal the screen is
 * cleared each time, otherwise a tree is written only when it changed. */
static int watch_run(cli *c, const char *name) {
  int tty = isatty(STDOUT_FILENO);
  char *last = NULL;
  for (;;) {
    const kube_resource *want[] = {&pl_pipelinerun_resource}, *r;
    json_t *run;
    int rc = resolve(c, name, want, 1, &r, &run);
    if (rc) {
      free(last);
      return rc;
    }
    cubit_buf out;
    buf_init(&out, 64 << 20);
    rc = render_object(c, r, run, &out);
    int code = 0, going = cli_run_finished(run, &code);
    json_decref(run);
    if (rc) {
      buf_free(&out);
      free(last);
      return rc;
    }
    /* Durations move every second: compare without them would need a
     * second render; a changed text is simply printed again. */
    if (tty) {
      fputs("\033[H\033[2J", stdout);
      print_buf(c, &out);
    } else if (last == NULL || strcmp(last, out.data ? out.data : "") != 0) {
      if (last) fputs("\n", stdout);
      print_buf(c, &out);
    }
    free(last);
    last = buf_detach(&out);
    if (!going) {
      free(last);
      return code;
    }
    usleep((useconds_t)(c->a->interval_ms * 1000));
  }
}

static int cmd_watch(cli *c) { return watch_run(c, c->a->name); }

/* ---------------------------------------------------------- submit */

/* The Pipeline the command names (submit, backfill): *p is the caller's. */
static int get_pipeline(cli *c, json_t **p) {
  static const kube_resource *const want[] = {&pl_pipeline_resource};
  const kube_resource *r;
  return resolve(c, c->a->name, want, 1, &r, p);
}


static int cmd_submit(cli *c) {
  kube_status st;
  json_t *p = NULL;
  int rc = get_pipeline(c, &p);
  if (rc) return rc;
  json_decref(p);
  /* A run made by hand: generateName "<pipeline>-" and the pipeline's label,
   * as docs/pipeline.md shows; the scheduler's runs are "<pipeline>-<tick>". */
  char gen[300];
  snprintf(gen, sizeof(gen), "%s-", c->a->name);
  json_t *params = json_object();
  for (size_t i = 0; i < c->a->nparams; i++)
    json_object_set_new(params, c->a->params[i].name, json_string(c->a->params[i].value));
  json_t *run = json_pack("{s:s, s:s, s:{s:s, s:s, s:{s:s}}, s:{s:{s:s}, s:o}}", "apiVersion", "cubit.dev/v1alpha1",
                          "kind", "PipelineRun", "metadata", "generateName", gen, "namespace", c->ns, "labels",
                          CUBIT_LABEL_PIPELINE, c->a->name, "spec", "pipelineRef", "name", c->a->name, "params", params);
  json_t *made = NULL;
  rc = kube_create(c->client, &pl_pipelinerun_resource, c->ns, run, &made, &st);
  json_decref(run);
  if (rc) {
    fail("creating a PipelineRun of %s: %s", c->a->name, st.message);
    return CLI_EXIT_ERROR;
  }
  char name[256];
  snprintf(name, sizeof(name), "%s", js_name(made));
  json_decref(made);
  printf("pipelinerun/%s created\n", name);
  fflush(stdout);
  return c->a->watch ? watch_run(c, name) : 0;
}

/* ---------------------------------------------------------- patches */

static int patch(cli *c, const kube_resource *r, const char *name, json_t *body, const char *done) {
  kube_patch_options o = {.type = KUBE_PATCH_MERGE};
  kube_status st;
  json_t *out = NULL;
  int rc = kube_patch(c->client, r, c->ns, name, body, &o, &out, &st);
  json_decref(body);
  json_decref(out);
  if (rc) {
    fail("patching %s %s: %s", r->kind, name, st.message);
    return rc == CUBIT_ENOTFOUND ? CLI_EXIT_NOTFOUND : CLI_EXIT_ERROR;
  }
  printf("%s/%s %s\n", r->resource, name, done);
  return 0;
}

static int cmd_retry(cli *c) {
  const kube_resource *want[] = {&pl_pipelinerun_resource}, *r;
  json_t *run;
  int rc = resolve(c, c->a->name, want, 1, &r, &run);
  if (rc) return rc;
  const char *phase = js_str(run, "status.phase");
  const char *from = c->a->from;
  if (from) {
    if (phase == NULL || (strcmp(phase, "Failed") != 0 && strcmp(phase, "Succeeded") != 0)) {
      fail("PipelineRun %s is %s: only a finished run is retried from a task", js_name(run), phase ? phase : "Pending");
      json_decref(run);
      return CLI_EXIT_USAGE;
    }
    /* The task must be one of the run's own (its copy of the pipeline). */
    json_t *tasks = js_get(run, "status.pipelineSpec.tasks");
    size_t n = json_array_size(tasks), i;
    const char **names = xcalloc(n ? n : 1, sizeof(*names));
    int found = 0;
    json_t *t;
    json_array_foreach(tasks, i, t) {
      names[i] = js_str(t, "name");
      found |= names[i] && strcmp(names[i], from) == 0;
    }
    if (!found) {
      const char *best = cli_suggest(names, n, from);
      fail("PipelineRun %s has no task %s%s%s%s", js_name(run), from, best ? "; did you mean " : "", best ? best : "",
           best ? "?" : "");
      free(names);
      json_decref(run);
      return CLI_EXIT_USAGE;
    }
    free(names);
  } else if (phase == NULL || strcmp(phase, "Failed") != 0) {
    fail("PipelineRun %s is %s, not Failed: only a failed run is retried (--from TASK re-runs a finished run from a "
         "task)", js_name(run), phase ? phase : "Pending");
    json_decref(run);
    return CLI_EXIT_USAGE;
  }
  char name[256];
  snprintf(name, sizeof(name), "%s", js_name(run));
  json_decref(run);
  /* Each value retries once (status.lastHandledRetry): the clock to the
   * nanosecond makes it new. */
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  char v[48];
  snprintf(v, sizeof(v), "%lld.%09ld", (long long)ts.tv_sec, ts.tv_nsec);
  /* Both annotations in one patch: the controller reads them together; a
   * plain retry removes a retry-from left by an earlier one. */
  char done[320];
  if (from) snprintf(done, sizeof(done), "retry from task %s requested", from);
  else snprintf(done, sizeof(done), "retry requested");
  return patch(c, r, name,
               json_pack("{s:{s:{s:s, s:o}}}", "metadata", "annotations", CLI_RETRY_ANNOTATION, v,
                         CLI_RETRY_FROM_ANNOTATION, from ? json_string(from) : json_null()),
               done);
}

/* stop / resume: a PipelineRun's and a Notebook's spec.stopped, a
 * TrainingJob's spec.suspend. A finished run has nothing to stop or resume
 * (its controller ignores spec.stopped): refused rather than recorded. */
static int set_stopped(cli *c, int stop) {
  const kube_resource *want[] = {&pl_pipelinerun_resource, &trainingjob_resource, &notebook_resource}, *r;
  json_t *obj;
  int rc = resolve(c, c->a->name, want, 3, &r, &obj);
  if (rc) return rc;
  char name[256];
  snprintf(name, sizeof(name), "%s", js_name(obj));
  if (r == &pl_pipelinerun_resource) {
    int code;
    if (!cli_run_finished(obj, &code)) {
      fail("PipelineRun %s has %s: there is nothing to %s", name, js_str(obj, "status.phase"), stop ? "stop" : "resume");
      json_decref(obj);
      return CLI_EXIT_USAGE;
    }
  }
  json_decref(obj);
  const char *field = r == &trainingjob_resource ? "suspend" : "stopped";
  return patch(c, r, name, json_pack("{s:{s:b}}", "spec", field, stop), stop ? "stopped" : "resumed");
}

static int cmd_renew(cli *c) {
  const kube_resource *want[] = {&notebook_resource}, *r;
  json_t *nb;
  int rc = resolve(c, c->a->name, want, 1, &r, &nb);
  if (rc) return rc;
  if (!json_is_object(js_get(nb, "spec.lease"))) {
    fail("Notebook %s has no spec.lease: there is nothing to renew", js_name(nb));
    json_decref(nb);
    return CLI_EXIT_USAGE;
  }
  char name[256];
  snprintf(name, sizeof(name), "%s", js_name(nb));
  json_decref(nb);
  json_t *body = json_pack("{s:{s:{s:s}}}", "metadata", "annotations", NOTEBOOK_RENEW_ANNOTATION, "1");
  if (c->a->for_s) js_set(body, "spec.lease.ttlSeconds", json_integer(c->a->for_s));
  return patch(c, r, name, body, "renewed");
}

/* Whether url answers from here (any HTTP answer counts); why not in why. */
static int reachable(const char *url, char *why, size_t len) {
  if (strncasecmp(url, "http://", 7) != 0 && strncasecmp(url, "https://", 8) != 0) {
    snprintf(why, len, "it has no scheme and host");
    return 0;
  }
  CURL *e = curl_easy_init();
  if (e == NULL) {
    snprintf(why, len, "cannot make an HTTP client");
    return 0;
  }
  curl_easy_setopt(e, CURLOPT_URL, url);
  curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 5000L);
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  CURLcode cc = curl_easy_perform(e);
  if (cc != CURLE_OK) snprintf(why, len, "%s", curl_easy_strerror(cc));
  curl_easy_cleanup(e);
  return cc == CURLE_OK;
}

/* The notebook's Running pod (its name into pod), found by its label. */
static int notebook_pod(cli *c, const char *nb, char *pod, size_t len) {
  char sel[320];
  snprintf(sel, sizeof(sel), "%s=%s", NOTEBOOK_LABEL, nb);
  json_t *items;
  int rc = list(c, &kube_pods, sel, &items);
  if (rc) return rc;
  size_t i;
  json_t *p;
  *pod = '\0';
  json_array_foreach(items, i, p) {
    const char *ph = js_str(p, "status.phase");
    if (ph && strcmp(ph, "Running") == 0 && js_get(p, "metadata.deletionTimestamp") == NULL) {
      snprintf(pod, len, "%s", js_name(p));
      break;
    }
  }
  json_decref(items);
  if (*pod == '\0') {
    fail("Notebook %s has no Running pod to forward to (is it stopped? kubectl cubit resume %s)", nb, nb);
    return CLI_EXIT_ERROR;
  }
  return 0;
}

/* Forwards 127.0.0.1:port (0 = a free one) to the notebook pod's IDE port
 * until SIGINT or SIGTERM, read through a signalfd that every stream
 * polls too: the signals are blocked in this thread before any stream
 * thread starts, so they inherit that. Their disposition is reset first:
 * a shell starts a background job with SIGINT ignored, and an ignored
 * signal is dropped, never queued for the signalfd. */
static int forward_notebook(cli *c, const char *nb, int port) {
  char pod[256];
  int rc = notebook_pod(c, nb, pod, sizeof(pod));
  if (rc) return rc;
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &mask, NULL);
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  int stop = signalfd(-1, &mask, SFD_CLOEXEC);
  if (stop < 0) {
    fail("signalfd: %s", strerror(errno));
    return CLI_EXIT_ERROR;
  }
  char err[256];
  int lfd, bound;
  if (cli_forward_listen(port, &lfd, &bound, err, sizeof(err))) {
    fail("%s", err);
    close(stop);
    return CLI_EXIT_ERROR;
  }
  char base[NOTEBOOK_PATH_LEN];
  notebook_base_path(c->ns, nb, base);
  printf("Forwarding from 127.0.0.1:%d -> %s:%d\nhttp://127.0.0.1:%d%s\n", bound, pod, NOTEBOOK_PORT, bound, base);
  fflush(stdout);
  cli_forward_target t = {.client = c->client, .ns = c->ns, .pod = pod, .port = NOTEBOOK_PORT};
  rc = cli_forward_serve(&t, lfd, stop, stderr);
  close(lfd);
  close(stop);
  return rc ? CLI_EXIT_ERROR : 0;
}

/* Prints the notebook's URL. When the route does not answer from here (no
 * gateway, no DNS name, a cluster without ingress), or when --port is
 * given, it forwards a local port to the notebook's pod through the API
 * server instead and prints that URL, until Ctrl-C. */
static int cmd_open(cli *c) {
  const kube_resource *want[] = {&notebook_resource}, *r;
  json_t *nb;
  int rc = resolve(c, c->a->name, want, 1, &r, &nb);
  if (rc) return rc;
  char name[256];
  snprintf(name, sizeof(name), "%s", js_name(nb));
  const char *url = js_str(nb, "status.url");
  /* The hub's API server cannot forward to a member's pod: a member's
   * notebook is reached through the member's own gateway when its Cluster
   * names one (Routed), else only inside that cluster (docs/multicluster.md,
   * "Notebooks in members"). */
  const char *cluster = js_str(nb, "status.cluster");
  if (cluster && *cluster && strcmp(cluster, "local") != 0) {
    char why[256] = "";
    int routed = rt_condition_true(json_object_get(nb, "status"), "Routed");
    if (routed && c->a->port < 0 && url && *url && reachable(url, why, sizeof(why))) {
      printf("%s\n", url);
      json_decref(nb);
      return 0;
    }
    if (routed)
      fail("Notebook %s runs in member cluster %s behind that cluster's gateway; %s does not answer from here "
           "(%s), and the hub cannot forward a port to it; with that cluster's kubeconfig: kubectl -n %s "
           "port-forward pod/%s-0 %d",
           name, cluster, url ? url : "no URL yet", c->a->port >= 0 ? "--port asked" : why, c->ns, name,
           NOTEBOOK_PORT);
    else
      fail("Notebook %s runs in member cluster %s: it is served inside that cluster only (%s); with that "
           "cluster's kubeconfig: kubectl -n %s port-forward pod/%s-0 %d",
           name, cluster, url ? url : "no URL yet", c->ns, name, NOTEBOOK_PORT);
    json_decref(nb);
    return CLI_EXIT_ERROR;
  }
  if (url == NULL || *url == '\0') {
    fail("Notebook %s has no URL yet (phase %s)", name, js_str(nb, "status.phase") ? js_str(nb, "status.phase") : "Pending");
    json_decref(nb);
    return CLI_EXIT_ERROR;
  }
  char why[256] = "";
  if (c->a->port < 0 && reachable(url, why, sizeof(why))) {
    printf("%s\n", url);
    json_decref(nb);
    return 0;
  }
  if (c->a->port < 0) fprintf(stderr, "%s does not answer from here (%s); forwarding a local port instead\n", url, why);
  json_decref(nb);
  return forward_notebook(c, name, c->a->port < 0 ? 0 : c->a->port);
}

/* ---------------------------------------------------------- logs */

/* Cubit's own HTTPS APIs: the history API and the manager's member logs.
 * Where the history API is (docs/cli.md#usage-and-history): --history-url
 * or $CUBIT_HISTORY_URL directly (its CA from $CUBIT_HISTORY_CA, else the
 * system's); else the API server's service proxy to the Service
 * cubit-history (port 443) in $CUBIT_HISTORY_NAMESPACE, default
 * cubit-system. Either way the kubeconfig user's bearer token goes along;
 * the API server removes Authorization before proxying, so the token is
 * repeated in X-Cubit-Authorization, which the history API reads then. */
typedef struct history_api {
  kube_config cfg;     /* a shallow copy of the CLI's, server and CA replaced when direct */
  char *server, *ca;   /* owned replacements */
  kube_client *client;
  char prefix[320];    /* the service proxy's path, "" when direct */
  const char *what;    /* for messages: "the history API" */
  const char *hint;    /* added to a 503 through the proxy */
} history_api;
static int manager_open(cli *c, history_api *h);
static void history_close(history_api *h);
static int api_request(history_api *h, const char *path, cubit_buf *text, json_t **out, kube_status *st);
static int api_failed(const history_api *h, const kube_status *st);

typedef struct follow {
  cli *c;
  char pod[256];
  char container[128];
  char member_owner[256];  /* the object placed on a member whose pod this is; "" in the hub */
  char member_plural[32];  /* its kind's plural */
  cli_prefixer px;
  int follow;
  int failed;
  int done;
  int stop;            /* the owner ended: a member log's follower reads once more and ends */
  pthread_t thread;
} follow;

static int on_log(const char *data, size_t len, void *arg) {
  follow *f = arg;
  cubit_buf out;
  buf_init(&out, 1 << 24);
  int rc = cli_prefixer_feed(&f->px, data, len, &out);
  if (rc == 0) print_buf(f->c, &out);
  buf_free(&out);
  return rc;
}

static int append_text(const char *data, size_t len, void *arg) {
  return buf_append(arg, data, len);
}

/* A member pod's log through the manager. The manager cannot stream it: a
 * follower asks again every 2 s from the newest line's second, with
 * timestamps, and drops what it printed already. */
static void read_member_log(follow *f) {
  history_api *h = xcalloc(1, sizeof(history_api));
  if (manager_open(f->c, h)) {
    f->failed = 1;
    free(h);
    return;
  }
  char newest[40] = "", since[32] = "";
  for (;;) {
    int last = __atomic_load_n(&f->stop, __ATOMIC_ACQUIRE);
    if (newest[0]) snprintf(since, sizeof(since), "%.19sZ", newest);
    char *path = cli_member_logs_path(f->c->ns, f->member_plural, f->member_owner, f->pod, f->container,
                                      since[0] ? since : NULL, f->follow);
    cubit_buf text, out;
    buf_init(&text, 16 << 20);
    buf_init(&out, 1 << 24);
    kube_status st;
    int rc = api_request(h, path, &text, NULL, &st);
    free(path);
    if (rc) {
      (void)api_failed(h, &st);
      f->failed = 1;
    } else if (f->follow) {
      char after[40];
      snprintf(after, sizeof(after), "%s", newest);
      rc = cli_member_log_feed(text.data ? text.data : "", text.len, after, newest, &f->px, &out);
    } else {
      rc = cli_prefixer_feed(&f->px, text.data ? text.data : "", text.len, &out);
    }
    if (rc == 0 && (!f->follow || last)) rc = cli_prefixer_flush(&f->px, &out);
    print_buf(f->c, &out);
    buf_free(&text);
    buf_free(&out);
    if (rc || !f->follow || last) break;
    sleep(2);
  }
  history_close(h);
  free(h);
}

static void *read_log(void *arg) {
  follow *f = arg;
  if (f->member_owner[0]) {
    read_member_log(f);
    __atomic_store_n(&f->done, 1, __ATOMIC_RELEASE);
    return NULL;
  }
  char *esc_c = curl_easy_escape(NULL, f->container, 0);
  char *base = kube_resource_path(&kube_pods, f->c->ns, f->pod, "log");
  char *path = xasprintf("%s?container=%s%s", base, esc_c, f->follow ? "&follow=true" : "");
  kube_status st;
  if (kube_request_stream(f->c->client, path, on_log, f, &st)) {
    fail("pod %s: %s", f->pod, st.message);
    f->failed = 1;
  }
  cubit_buf out;
  buf_init(&out, 1 << 24);
  if (cli_prefixer_flush(&f->px, &out) == 0) print_buf(f->c, &out);
  buf_free(&out);
  curl_free(esc_c);
  free(base);
  free(path);
  __atomic_store_n(&f->done, 1, __ATOMIC_RELEASE);
  return NULL;
}

/* The pods of placed object obj of kind r, selected by sel: the hub's, or,
 * when it is placed on a member cluster, the member's as the manager lists
 * them, each marked with the object's kind and name for read_log. */
static int placed_pods(cli *c, const kube_resource *r, const json_t *obj, const char *sel, json_t **items) {
  if (cli_member_of(obj) == NULL) return list(c, &kube_pods, sel, items);
  *items = NULL;
  history_api *h = xcalloc(1, sizeof(history_api));
  int rc = manager_open(c, h);
  if (rc) {
    free(h);
    return rc;
  }
  char *path = cli_member_logs_path(c->ns, r->resource, js_name(obj), NULL, NULL, NULL, 0);
  json_t *answer = NULL;
  kube_status st;
  if (api_request(h, path, NULL, &answer, &st)) rc = api_failed(h, &st);
  free(path);
  history_close(h);
  free(h);
  if (rc) return rc;
  *items = json_incref(json_object_get(answer, "items"));
  json_decref(answer);
  if (*items == NULL) *items = json_array();
  size_t i;
  json_t *pod;
  json_array_foreach(*items, i, pod) {
    json_object_set_new(pod, "cubitMemberOwner", json_string(js_name(obj)));
    json_object_set_new(pod, "cubitMemberKind", json_string(r->resource));
  }
  return 0;
}

/* The pods of TrainingJob tj (placed_pods). */
static int tj_pods(cli *c, const json_t *tj, json_t **items) {
  char sel[320];
  snprintf(sel, sizeof(sel), "%s=%s", TJ_LABEL, js_name(tj));
  return placed_pods(c, &trainingjob_resource, tj, sel, items);
}

/* The pods a logs command reads now, and whether the thing they belong to
 * goes on (so -f waits for more). */
static int gather_pods(cli *c, const kube_resource *r, const json_t *obj, json_t **pods, int *going) {
  char sel[600];
  json_t *items = NULL;
  int rc;
  *pods = NULL;
  *going = 1;
  const cli_args *a = c->a;
  if (r == &pl_pipelinerun_resource) {
    int code;
    *going = cli_run_finished(obj, &code);
    snprintf(sel, sizeof(sel), "cubit.dev/pipelinerun=%s", js_name(obj));
    if ((rc = list(c, &trainingjob_resource, sel, &items))) return rc;
    json_t *picked = cli_pick_attempts(items, a->task, a->attempt, a->all_attempts);
    json_decref(items);
    *pods = json_array();
    size_t i;
    json_t *tj;
    json_array_foreach(picked, i, tj) {
      if ((rc = tj_pods(c, tj, &items))) break;
      json_t *some = cli_pick_pods(items, a->role, a->replica);
      json_array_extend(*pods, some);
      json_decref(some);
      json_decref(items);
    }
    json_decref(picked);
    return rc;
  }
  if (r == &experiment_resource) {
    /* Its trials' TrainingJobs (one with --trial), then their pods. */
    const char *ph = js_str(obj, "status.phase");
    *going = !(ph && (strcmp(ph, "Succeeded") == 0 || strcmp(ph, "Failed") == 0));
    int n = snprintf(sel, sizeof(sel), "%s=%s", CUBIT_LABEL_EXPERIMENT, js_name(obj));
    if (a->trial && n > 0 && (size_t)n < sizeof(sel))
      snprintf(sel + n, sizeof(sel) - (size_t)n, ",%s=%d", CUBIT_LABEL_TRIAL, a->trial);
    if ((rc = list(c, &trainingjob_resource, sel, &items))) return rc;
    if (a->trial && json_array_size(items) == 0) {
      fail("Experiment %s has no trial %d (yet)", js_name(obj), a->trial);
      json_decref(items);
      return CLI_EXIT_NOTFOUND;
    }
    *pods = json_array();
    size_t i;
    json_t *tj;
    json_array_foreach(items, i, tj) {
      json_t *tpods = NULL;
      if ((rc = tj_pods(c, tj, &tpods))) break;
      json_t *some = cli_pick_pods(tpods, a->role, a->replica);
      json_array_extend(*pods, some);
      json_decref(some);
      json_decref(tpods);
    }
    json_decref(items);
    return rc;
  }
  if (r == &trainingjob_resource) {
    const char *ph = js_str(obj, "status.phase");
    *going = !(ph && (strcmp(ph, "Succeeded") == 0 || strcmp(ph, "Failed") == 0));
    if ((rc = tj_pods(c, obj, &items))) return rc;
    *pods = cli_pick_pods(items, a->role, a->replica);
    json_decref(items);
    return 0;
  }
  if (r == &notebook_resource) {
    snprintf(sel, sizeof(sel), "%s=%s", NOTEBOOK_LABEL, js_name(obj));
  } else {
    int n = snprintf(sel, sizeof(sel), "%s=%s", INFERENCE_LABEL, js_name(obj));
    if (a->revision) snprintf(sel + n, sizeof(sel) - (size_t)n, ",%s=%s", INFERENCE_REVISION_LABEL, a->revision);
  }
  if ((rc = placed_pods(c, r, obj, sel, &items))) return rc;
  *pods = cli_pick_pods(items, a->role, a->replica);
  json_decref(items);
  return 0;
}

/* A container's log exists once it started: running or terminated. */
static int log_ready(const json_t *pod, const char *container, long *restarts) {
  size_t i;
  json_t *cs;
  json_array_foreach(js_get(pod, "status.containerStatuses"), i, cs) {
    if (strcmp(js_str(cs, "name") ? js_str(cs, "name") : "", container)) continue;
    *restarts = (long)js_int(cs, "restartCount", 0);
    return js_get(cs, "state.running") || js_get(cs, "state.terminated");
  }
  return 0;
}

static int cmd_logs(cli *c) {
  const cli_args *a = c->a;
  const kube_resource *want[] = {&pl_pipelinerun_resource, &trainingjob_resource, &notebook_resource,
                                 &inference_resource, &experiment_resource}, *r;
  json_t *obj;
  int rc = resolve(c, a->name, want, 5, &r, &obj);
  if (rc) return rc;
  const char *misplaced = NULL;
  if (a->task && r != &pl_pipelinerun_resource) misplaced = "a TASK argument";
  else if ((a->attempt || a->all_attempts) && r != &pl_pipelinerun_resource) misplaced = "--attempt/--all-attempts";
  else if (a->revision && r != &inference_resource) misplaced = "--revision";
  else if (a->trial && r != &experiment_resource) misplaced = "--trial";
  else if ((a->role || a->replica >= 0) && r != &trainingjob_resource && r != &pl_pipelinerun_resource &&
           r != &experiment_resource)
    misplaced = "--role/--replica";
  if (misplaced) {
    fail("%s does not apply to a %s", misplaced, r->kind);
    json_decref(obj);
    return CLI_EXIT_USAGE;
  }
  follow **seen = NULL;
  char **keys = NULL;
  size_t nseen = 0;
  int failed = 0, first = 1;
  for (;;) {
    json_t *pods;
    int going;
    if ((rc = gather_pods(c, r, obj, &pods, &going))) break;
    if (first && json_array_size(pods) == 0 && !a->follow) {
      fail("no pods of %s %s (yet)", r->kind, js_name(obj));
      rc = CLI_EXIT_NOTFOUND;
      json_decref(pods);
      break;
    }
    int prefix = json_array_size(pods) > 1 || a->follow || nseen > 0;
    size_t i;
    json_t *pod;
    json_array_foreach(pods, i, pod) {
      const char *container = cli_log_container(pod);
      long restarts = 0;
      if (container == NULL) continue;
      int ready = log_ready(pod, container, &restarts);
      if (!ready) {
        if (!a->follow) {
          fail("pod %s: container %s has not started", js_name(pod), container);
          failed = 1;
        }
        continue;
      }
      /* One reader per pod and container start: a restarted container is
       * read again from its new start. */
      char key[400];
      snprintf(key, sizeof(key), "%s/%ld", js_uid(pod) ? js_uid(pod) : js_name(pod), restarts);
      int known = 0;
      for (size_t k = 0; k < nseen && !known; k++) known = strcmp(keys[k], key) == 0;
      if (known) continue;
      follow *f = xcalloc(1, sizeof(*f));
      seen = xrealloc(seen, (nseen + 1) * sizeof(*seen));
      keys = xrealloc(keys, (nseen + 1) * sizeof(*keys));
      keys[nseen] = xstrdup(key);
      f->c = c;
      f->follow = a->follow;
      snprintf(f->pod, sizeof(f->pod), "%s", js_name(pod));
      snprintf(f->container, sizeof(f->container), "%s", container);
      snprintf(f->member_owner, sizeof(f->member_owner), "%s",
               js_str(pod, "cubitMemberOwner") ? js_str(pod, "cubitMemberOwner") : "");
      snprintf(f->member_plural, sizeof(f->member_plural), "%s",
               js_str(pod, "cubitMemberKind") ? js_str(pod, "cubitMemberKind") : "");
      cli_prefixer_init(&f->px, prefix ? f->pod : NULL);
      seen[nseen++] = f;
      if (a->follow) {
        if (pthread_create(&f->thread, NULL, read_log, f)) {
          fail("pod %s: cannot start a reader thread", f->pod);
          f->failed = 1;
          f->done = 2; /* never joined */
        }
      } else {
        read_log(f);
      }
    }
    json_decref(pods);
    first = 0;
    if (!a->follow || rc) break;
    /* Following: until the owner ended and every reader is done. */
    int busy = 0;
    for (size_t k = 0; k < nseen; k++) {
      if (!going) __atomic_store_n(&seen[k]->stop, 1, __ATOMIC_RELEASE); /* a member log's follower ends */
      busy |= !__atomic_load_n(&seen[k]->done, __ATOMIC_ACQUIRE);
    }
    if (!going && !busy) break;
    sleep(2);
    const char *name = js_name(obj);
    char *keep = xstrdup(name ? name : "");
    json_decref(obj);
    obj = NULL;
    kube_status st;
    int grc = kube_get(c->client, r, c->ns, keep, &obj, &st);
    free(keep);
    if (grc) {
      fail("reading %s: %s", r->kind, st.message);
      rc = CLI_EXIT_ERROR;
      break;
    }
  }
  for (size_t k = 0; k < nseen; k++) {
    if (a->follow && seen[k]->done != 2) pthread_join(seen[k]->thread, NULL);
    failed |= seen[k]->failed;
    cli_prefixer_free(&seen[k]->px);
    free(seen[k]);
    free(keys[k]);
  }
  free(seen);
  free(keys);
  json_decref(obj);
  if (rc == 0 && failed) rc = CLI_EXIT_ERROR;
  return rc;
}

/* ---------------------------------------------------------- backfill */

/* The most ticks one backfill makes: a wrong window should not flood the
 * namespace. */
#define CLI_BACKFILL_MAX 1000

/* The pipeline's runs not finished (a Stopped one holds its slot too), as
 * the schedule's maxActiveRuns counts them; -1 when listing fails. */
static int active_runs(cli *c, const char *pipeline) {
  char sel[320];
  snprintf(sel, sizeof(sel), "%s=%s", CUBIT_LABEL_PIPELINE, pipeline);
  json_t *items = NULL;
  if (list(c, &pl_pipelinerun_resource, sel, &items)) return -1;
  int n = 0, code;
  size_t i;
  json_t *r;
  json_array_foreach(items, i, r) n += cli_run_finished(r, &code);
  json_decref(items);
  return n;
}

/* Explicit runs for the schedule's ticks in [--from, --to], oldest first,
 * named as the scheduler names a tick's run (<pipeline>-<tick>), so a tick
 * never runs twice: a repeated backfill, or the scheduler, finds the run
 * there and makes nothing. They are not the scheduler's (no owner), so its
 * history limits and TTL leave them. Each waits for a slot under
 * maxActiveRuns. */
static int cmd_backfill(cli *c) {
  kube_status st;
  json_t *p = NULL;
  int rc = get_pipeline(c, &p);
  if (rc) return rc;
  pl_spec spec;
  char err[700];
  if (pl_spec_parse(js_get(p, "spec"), &spec, err, sizeof(err))) {
    fail("Pipeline %s is invalid: %s", c->a->name, err);
    json_decref(p);
    return CLI_EXIT_USAGE;
  }
  int64_t now = time_wall_s(), from = 0, to = 0, *ticks = NULL;
  int n = 0;
  rc = 0;
  if (!spec.has_schedule) {
    fail("Pipeline %s has no schedule: backfill makes the runs of a schedule's ticks (use submit for a run)", c->a->name);
    rc = CLI_EXIT_USAGE;
  } else if (cli_parse_when(c->a->from, now, &from, err, sizeof(err)) ||
             cli_parse_when(c->a->to, now, &to, err, sizeof(err))) {
    fail("%s", err);
    rc = CLI_EXIT_USAGE;
  } else if (to <= from) {
    fail("--to must be after --from");
    rc = CLI_EXIT_USAGE;
  } else if (to > now) {
    fail("--to is in the future: the schedule makes those runs itself (backfill is for a past window)");
    rc = CLI_EXIT_USAGE;
  } else {
    ticks = xcalloc(CLI_BACKFILL_MAX + 1, sizeof(*ticks));
    n = cron_ticks(spec.sched.cron, spec.sched.zone, from - 1, to, ticks, CLI_BACKFILL_MAX + 1);
    if (n > CLI_BACKFILL_MAX) {
      fail("the window holds more than %d ticks of \"%s\": backfill a shorter one", CLI_BACKFILL_MAX,
           spec.sched.cron_src);
      rc = CLI_EXIT_USAGE;
    } else if (n == 0) {
      printf("no tick of \"%s\" in the window: nothing to run\n", spec.sched.cron_src);
    }
  }
  int max_active = spec.sched.max_active;
  char pipeline[256];
  snprintf(pipeline, sizeof(pipeline), "%s", c->a->name);
  pl_spec_free(&spec);
  int made = 0, existed = 0;
  for (int i = 0; rc == 0 && i < n; i++) {
    char name[320], when[32];
    snprintf(name, sizeof(name), "%s-%lld", pipeline, (long long)ticks[i]);
    time_format_rfc3339(ticks[i], when);
    json_t *run = NULL;
    if (kube_get(c->client, &pl_pipelinerun_resource, c->ns, name, &run, &st) == 0) {
      json_decref(run);
      printf("pipelinerun/%s exists (tick %s)\n", name, when);
      existed++;
      continue;
    }
    for (int said = 0; max_active > 0;) {
      int active = active_runs(c, pipeline);
      if (active < 0) {
        rc = CLI_EXIT_ERROR;
        break;
      }
      if (active < max_active) break;
      if (!said++) printf("waiting: %d runs of %s active (maxActiveRuns %d)\n", active, pipeline, max_active);
      fflush(stdout);
      usleep((useconds_t)(c->a->interval_ms * 1000));
    }
    if (rc) break;
    json_t *desired = json_pack("{s:s, s:s, s:{s:s, s:s, s:{s:s}}, s:{s:{s:s}, s:s}}", "apiVersion",
                                "cubit.dev/v1alpha1", "kind", "PipelineRun", "metadata", "name", name, "namespace",
                                c->ns, "labels", CUBIT_LABEL_PIPELINE, pipeline, "spec", "pipelineRef", "name", pipeline,
                                "scheduledTime", when);
    int crc = kube_create(c->client, &pl_pipelinerun_resource, c->ns, desired, NULL, &st);
    json_decref(desired);
    if (crc == CUBIT_EALREADYEXISTS) {
      printf("pipelinerun/%s exists (tick %s)\n", name, when);
      existed++;
    } else if (crc) {
      fail("creating PipelineRun %s: %s", name, st.message);
      rc = CLI_EXIT_ERROR;
    } else {
      printf("pipelinerun/%s created (tick %s)\n", name, when);
      made++;
    }
    fflush(stdout);
  }
  if (rc == 0 && n > 0) printf("%d runs created, %d existed\n", made, existed);
  free(ticks);
  json_decref(p);
  return rc;
}

/* ---------------------------------------------------------- history */

static void history_close(history_api *h) {
  kube_client_free(h->client);
  free(h->server);
  free(h->ca);
}

/* Where one of Cubit's HTTPS APIs is: 'url' (a flag or $<env>_URL, its CA
 * from $<env>_CA) directly, else the service proxy to 'service' (port 443)
 * in $<env>_NAMESPACE, default cubit-system. */
typedef struct api_place {
  const char *what;    /* "the history API" */
  const char *hint;    /* what a 503 through the service proxy may mean */
  const char *url;     /* a flag's value, or NULL */
  const char *env;     /* "CUBIT_HISTORY" */
  const char *service; /* "cubit-history" */
} api_place;

static const char *env_of(const api_place *p, const char *suffix, char *buf, size_t len) {
  snprintf(buf, len, "%s_%s", p->env, suffix);
  return getenv(buf);
}

static int api_open(cli *c, const api_place *where, history_api *h) {
  memset(h, 0, sizeof(*h));
  h->what = where->what;
  h->hint = where->hint;
  char name[64];
  /* The API reviews a bearer token: a user known by a client certificate
   * alone has none to send. */
  kube_creds *creds = kube_creds_new(&c->cfg);
  kube_creds_snapshot snap = {0};
  char err[512] = "";
  int rc = kube_creds_get(creds, &snap, err, sizeof(err));
  int has_token = rc == 0 && snap.token && *snap.token;
  kube_creds_snapshot_free(&snap);
  kube_creds_free(creds);
  if (rc) {
    fail("credentials: %s", err);
    return CLI_EXIT_ERROR;
  }
  if (!has_token) {
    fail("%s authenticates callers by a bearer token, and the kubeconfig user of context %s has none "
         "(a client certificate?): pass --token, or use a user with a token or an exec credential plugin",
         where->what, c->cfg.context && *c->cfg.context ? c->cfg.context : "(current)");
    return CLI_EXIT_USAGE;
  }
  h->cfg = c->cfg;
  const char *url = where->url ? where->url : env_of(where, "URL", name, sizeof(name));
  if (url && *url) {
    h->server = xstrdup(url);
    size_t n = strlen(h->server);
    while (n > 0 && h->server[n - 1] == '/') h->server[--n] = '\0';
    h->cfg.server = h->server;
    h->cfg.tls_server_name = NULL;
    h->cfg.insecure_skip_tls_verify = 0;
    h->cfg.proxy_url = NULL;
    h->cfg.ca_pem = NULL;
    h->cfg.ca_pem_len = 0;
    const char *ca = env_of(where, "CA", name, sizeof(name));
    if (ca && *ca) {
      FILE *f = fopen(ca, "rb");
      cubit_buf b;
      buf_init(&b, 1 << 20);
      char chunk[4096];
      size_t got;
      while (f && (got = fread(chunk, 1, sizeof(chunk), f)) > 0)
        if (buf_append(&b, chunk, got)) break;
      if (f == NULL || b.len == 0) {
        fail("%s=%s: cannot read it", name, ca);
        if (f) fclose(f);
        buf_free(&b);
        free(h->server);
        return CLI_EXIT_USAGE;
      }
      fclose(f);
      h->cfg.ca_pem_len = b.len;
      h->ca = h->cfg.ca_pem = buf_detach(&b);
    }
  } else {
    const char *ns = env_of(where, "NAMESPACE", name, sizeof(name));
    snprintf(h->prefix, sizeof(h->prefix), "/api/v1/namespaces/%s/services/https:%s:443/proxy",
             ns && *ns ? ns : "cubit-system", where->service);
  }
  kube_client_options o = {.user_agent = "kubectl-cubit/0.1.0", .token_copy_header = "X-Cubit-Authorization"};
  if (kube_client_new(&h->cfg, &o, &h->client)) {
    fail("cannot make a client for %s at %s", where->what, h->cfg.server);
    history_close(h);
    return CLI_EXIT_ERROR;
  }
  return 0;
}

static int history_open(cli *c, history_api *h) {
  api_place p = {"the history API", " (is history enabled in the chart? or set --history-url)", c->a->history_url,
                 "CUBIT_HISTORY", "cubit-history"};
  return api_open(c, &p, h);
}

/* The manager's endpoints (the member logs): reached like the history API,
 * at $CUBIT_MANAGER_URL or through the webhook Service. */
static int manager_open(cli *c, history_api *h) {
  api_place p = {"the manager's logs API", " (is the manager running? its webhook Service serves them)", NULL,
                 "CUBIT_MANAGER", "cubit-webhook"};
  return api_open(c, &p, h);
}

/* Says a failed call of the API h in its own words ({reason, message});
 * returns the exit code. */
static int api_failed(const history_api *h, const kube_status *stp) {
  const kube_status st = *stp;
  const char *body = strstr(st.message, ": {");
  json_t *e = body ? json_loads(body + 2, 0, NULL) : NULL;
  const char *msg = js_str(e, "message") ? js_str(e, "message") : st.message;
  const char *where = h->prefix[0] ? "through the API server's service proxy" : h->cfg.server;
  if (st.http_status == 0)
    fail("%s (%s): %s", h->what, where, msg);
  else if (h->prefix[0] && st.http_status == 503)
    fail("%s (%s): %s%s", h->what, where, msg, h->hint);
  else
    fail("%s (%s) answered %ld: %s", h->what, where, st.http_status, msg);
  json_decref(e);
  return st.http_status == 400 ? CLI_EXIT_USAGE : CLI_EXIT_ERROR;
}

/* GET path of the history API (or the manager's); its error answers are
 * said in its own words. */
static int history_get(cli *c, history_api *h, const char *path, json_t **out) {
  (void)c;
  char *full = xasprintf("%s%s", h->prefix, path);
  kube_status st;
  int rc = kube_request(h->client, "GET", full, NULL, NULL, NULL, 0, out, &st);
  free(full);
  if (rc == 0) return 0;
  return api_failed(h, &st);
}

/* GET path of the API h: JSON into *out, or (text not NULL) the raw body. */
static int api_request(history_api *h, const char *path, cubit_buf *text, json_t **out, kube_status *st) {
  char *full = xasprintf("%s%s", h->prefix, path);
  int rc = text ? kube_request_stream_within(h->client, full, 60000, append_text, text, st)
                : kube_request(h->client, "GET", full, NULL, NULL, NULL, 0, out, st);
  free(full);
  return rc;
}

static int print_data(cli *c, const json_t *v) {
  cubit_buf out;
  buf_init(&out, 256 << 20);
  int rc = cli_write_data(v, c->a->output, &out);
  if (rc == 0) print_buf(c, &out);
  buf_free(&out);
  return rc ? CLI_EXIT_ERROR : 0;
}

static int cmd_usage(cli *c) {
  history_api h;
  int rc = history_open(c, &h);
  if (rc) return rc;
  char *path = cli_usage_path(c->a, time_wall_s());
  json_t *answer = NULL;
  rc = history_get(c, &h, path, &answer);
  free(path);
  if (rc == 0) {
    if (c->a->output == CLI_OUT_JSON || c->a->output == CLI_OUT_YAML) {
      rc = print_data(c, answer);
    } else {
      cubit_buf out;
      buf_init(&out, 64 << 20);
      rc = cli_render_usage(answer, c->a->output, &out) ? CLI_EXIT_ERROR : 0;
      if (rc == 0) print_buf(c, &out);
      buf_free(&out);
    }
  }
  json_decref(answer);
  history_close(&h);
  return rc;
}

/* Pages of /api/v1/runs (newest first) until --limit runs. */
static int cmd_history(cli *c) {
  history_api h;
  int rc = history_open(c, &h);
  if (rc) return rc;
  json_t *runs = json_array();
  char *after = NULL;
  int64_t now = time_wall_s();
  while (rc == 0 && (int)json_array_size(runs) < c->a->limit) {
    int want = c->a->limit - (int)json_array_size(runs);
    char *path = cli_history_path(c->a, c->a->ns, after, want > 1000 ? 1000 : want, now);
    json_t *page = NULL;
    rc = history_get(c, &h, path, &page);
    free(path);
    if (rc) break;
    json_array_extend(runs, json_object_get(page, "items"));
    free(after);
    after = js_str(page, "next") ? xstrdup(js_str(page, "next")) : NULL;
    json_decref(page);
    if (after == NULL) break;
  }
  free(after);
  if (rc == 0) {
    if (c->a->output == CLI_OUT_JSON || c->a->output == CLI_OUT_YAML) {
      json_t *list = json_pack("{s:O}", "items", runs);
      rc = print_data(c, list);
      json_decref(list);
    } else {
      cubit_buf out;
      buf_init(&out, 64 << 20);
      rc = cli_render_history(runs, c->a->output, now, &out) ? CLI_EXIT_ERROR : 0;
      if (rc == 0) print_buf(c, &out);
      buf_free(&out);
    }
  }
  json_decref(runs);
  history_close(&h);
  return rc;
}

/* ---------------------------------------------------------- main */

int main(int argc, char **argv) {
  cli_args a;
  char err[512];
  if (cli_parse(argc, argv, &a, err, sizeof(err))) {
    fail("%s", err);
    return CLI_EXIT_USAGE;
  }
  if (a.cmd == CLI_CMD_COMPLETION) {
    cubit_buf script;
    buf_init(&script, 1 << 20);
    int crc = cli_completion(a.name, &script);
    if (crc == 0) fwrite(script.data, 1, script.len, stdout);
    buf_free(&script);
    cli_args_free(&a);
    return crc ? CLI_EXIT_ERROR : 0;
  }
  if (a.cmd == CLI_CMD_HELP) {
    const char *topic = a.help_for && *a.help_for ? a.help_for : NULL;
    fputs(cli_help(topic), stdout);
    cli_args_free(&a);
    return 0;
  }
  cli c = {.a = &a};
  pthread_mutex_init(&c.out_lock, NULL);
  int code = CLI_EXIT_ERROR;
  curl_global_init(CURL_GLOBAL_DEFAULT);
  if (kube_config_load(a.kubeconfig, a.context, &c.cfg, err, sizeof(err))) {
    fail("kubeconfig: %s", err);
    goto out;
  }
  /* kubectl's --token: this bearer token rather than the user's own. */
  if (a.token) {
    free(c.cfg.token);
    free(c.cfg.token_file);
    c.cfg.token = xstrdup(a.token);
    c.cfg.token_file = NULL;
  }
  /* kubectl's rule: -n, else the context's namespace, else "default". */
  c.ns = a.ns ? a.ns : (c.cfg.namespace && *c.cfg.namespace ? c.cfg.namespace : "default");
  kube_client_options o = {.user_agent = "kubectl-cubit/" "0.1.0"};
  if (kube_client_new(&c.cfg, &o, &c.client)) {
    fail("cannot make a client for %s", c.cfg.server);
    goto out;
  }
  switch (a.cmd) {
    case CLI_CMD_GET: code = cmd_get(&c); break;
    case CLI_CMD_WATCH: code = cmd_watch(&c); break;
    case CLI_CMD_SUBMIT: code = cmd_submit(&c); break;
    case CLI_CMD_LOGS: code = cmd_logs(&c); break;
    case CLI_CMD_RETRY: code = cmd_retry(&c); break;
    case CLI_CMD_STOP: code = set_stopped(&c, 1); break;
    case CLI_CMD_RESUME: code = set_stopped(&c, 0); break;
    case CLI_CMD_RENEW: code = cmd_renew(&c); break;
    case CLI_CMD_OPEN: code = cmd_open(&c); break;
    case CLI_CMD_USAGE: code = cmd_usage(&c); break;
    case CLI_CMD_HISTORY: code = cmd_history(&c); break;
    case CLI_CMD_BACKFILL: code = cmd_backfill(&c); break;
    default: fail("no command"); code = CLI_EXIT_USAGE; break;
  }
out:
  kube_client_free(c.client);
  kube_config_free(&c.cfg);
  curl_global_cleanup();
  pthread_mutex_destroy(&c.out_lock);
  cli_args_free(&a);
  return code;
}
