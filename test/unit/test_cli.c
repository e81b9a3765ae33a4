/* kubectl-cubit's pure parts (cmd/kubectl-cubit): the command line, the
 * trees of a run and a job against golden text, the choice of attempts and
 * pods for logs, and per-pod line prefixes. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/kubectl-cubit/cli.h"
#include "testutil.h"
#include "util/time.h"
#include "util/yaml.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define MAXARGS 16

/* ---------------------------------------------------------- arguments */

typedef struct parse_case {
  const char *argv[MAXARGS];
  cli_command cmd;
  const char *name, *task, *ns, *context, *kubeconfig, *role, *revision, *help_for;
  int follow, attempt, all_attempts, replica, watch;
  int64_t for_s, interval_ms;
  size_t nparams;
  const char *param0;  /* "name=value" of the first -p */
} parse_case;

static const parse_case parse_ok[] = {
    {{"get", "nightly-1"}, CLI_CMD_GET, "nightly-1", .replica = -1, .interval_ms = 2000},
    {{"tree", "plr/nightly-1", "-n", "team-a"}, CLI_CMD_GET, "plr/nightly-1", .ns = "team-a", .replica = -1, .interval_ms = 2000},
    {{"-n", "team-a", "--context", "dev", "--kubeconfig=/k", "get", "x"}, CLI_CMD_GET, "x", .ns = "team-a",
     .context = "dev", .kubeconfig = "/k", .replica = -1, .interval_ms = 2000},
    {{"--namespace=b", "watch", "r", "--interval", "5s"}, CLI_CMD_WATCH, "r", .ns = "b", .replica = -1, .interval_ms = 5000},
    {{"logs", "run", "train", "-f", "--attempt", "2"}, CLI_CMD_LOGS, "run", "train", .follow = 1, .attempt = 2,
     .replica = -1, .interval_ms = 2000},
    {{"logs", "run", "--all-attempts", "--role=worker", "--replica", "0"}, CLI_CMD_LOGS, "run", .all_attempts = 1,
     .role = "worker", .replica = 0, .interval_ms = 2000},
    {{"logs", "isvc/s", "--revision", "r2"}, CLI_CMD_LOGS, "isvc/s", .revision = "r2", .replica = -1, .interval_ms = 2000},
    {{"submit", "etl", "-p", "a=1", "-p", "b=x=y", "--watch"}, CLI_CMD_SUBMIT, "etl", .watch = 1, .nparams = 2,
     .param0 = "a=1", .replica = -1, .interval_ms = 2000},
    {{"submit", "etl", "--param=empty=", "-w"}, CLI_CMD_SUBMIT, "etl", .watch = 1, .nparams = 1, .param0 = "empty=",
     .replica = -1, .interval_ms = 2000},
    {{"renew", "lab", "--for", "1h30m"}, CLI_CMD_RENEW, "lab", .for_s = 5400, .replica = -1, .interval_ms = 2000},
    {{"stop", "tj/x"}, CLI_CMD_STOP, "tj/x", .replica = -1, .interval_ms = 2000},
    {{"resume", "nb/x"}, CLI_CMD_RESUME, "nb/x", .replica = -1, .interval_ms = 2000},
    {{"retry", "r"}, CLI_CMD_RETRY, "r", .replica = -1, .interval_ms = 2000},
    {{"open", "lab"}, CLI_CMD_OPEN, "lab", .replica = -1, .interval_ms = 2000},
    {{"logs", "--", "-odd-name"}, CLI_CMD_LOGS, "-odd-name", .replica = -1, .interval_ms = 2000},
    {{NULL}, CLI_CMD_HELP, .help_for = "", .replica = -1, .interval_ms = 2000},
    {{"help", "logs"}, CLI_CMD_HELP, .help_for = "logs", .replica = -1, .interval_ms = 2000},
    {{"logs", "--help"}, CLI_CMD_HELP, .help_for = "logs", .replica = -1, .interval_ms = 2000},
    {{"-h"}, CLI_CMD_HELP, .help_for = "", .replica = -1, .interval_ms = 2000},
};

static int argc_of(const char *const *argv, char **out) {
  int n = 0;
  out[n++] = "kubectl-cubit";
  for (int i = 0; i < MAXARGS - 1 && argv[i]; i++) out[n++] = (char *)argv[i];
  out[n] = NULL;
  return n;
}

static void str_eq(const char *got, const char *want, const char *what) {
  if (want == NULL) ck_assert_msg(got == NULL, "%s: got \"%s\", want none", what, got);
  else ck_assert_msg(got && strcmp(got, want) == 0, "%s: got \"%s\", want \"%s\"", what, got ? got : "(null)", want);
}

START_TEST(parse_valid) {
  const parse_case *c = &parse_ok[_i];
  char *argv[MAXARGS + 1];
  int argc = argc_of(c->argv, argv);
  cli_args a;
  char err[256] = "";
  ck_assert_msg(cli_parse(argc, argv, &a, err, sizeof(err)) == 0, "case %d: %s", _i, err);
  ck_assert_int_eq(a.cmd, c->cmd);
  str_eq(a.name, c->name, "name");
  str_eq(a.task, c->task, "task");
  str_eq(a.ns, c->ns, "namespace");
  str_eq(a.context, c->context, "context");
  str_eq(a.kubeconfig, c->kubeconfig, "kubeconfig");
  str_eq(a.role, c->role, "role");
  str_eq(a.revision, c->revision, "revision");
  str_eq(a.help_for, c->help_for, "help_for");
  ck_assert_int_eq(a.follow, c->follow);
  ck_assert_int_eq(a.attempt, c->attempt);
  ck_assert_int_eq(a.all_attempts, c->all_attempts);
  ck_assert_int_eq(a.replica, c->replica);
  ck_assert_int_eq(a.watch, c->watch);
  ck_assert_int_eq(a.for_s, c->for_s);
  ck_assert_int_eq(a.interval_ms, c->interval_ms);
  ck_assert_uint_eq(a.nparams, c->nparams);
  if (c->param0) {
    char p[128];
    snprintf(p, sizeof(p), "%s=%s", a.params[0].name, a.params[0].value);
    str_eq(p, c->param0, "param 0");
  }
  cli_args_free(&a);
}
END_TEST

/* open --port: the local port to forward; -1 when not given. */
static const struct {
  const char *argv[MAXARGS];
  int port;
} port_ok[] = {
    {{"open", "lab"}, -1},
    {{"open", "lab", "--port", "0"}, 0},
    {{"open", "--port=8888", "nb/lab"}, 8888},
    {{"--port", "65535", "open", "lab"}, 65535},
};

START_TEST(parse_port) {
  char *argv[MAXARGS + 1];
  int argc = argc_of(port_ok[_i].argv, argv);
  cli_args a;
  char err[256] = "";
  ck_assert_msg(cli_parse(argc, argv, &a, err, sizeof(err)) == 0, "case %d: %s", _i, err);
  ck_assert_int_eq(a.cmd, CLI_CMD_OPEN);
  ck_assert_int_eq(a.port, port_ok[_i].port);
  cli_args_free(&a);
}
END_TEST

typedef struct bad_case {
  const char *argv[MAXARGS];
  const char *message; /* the whole message */
} bad_case;

static const bad_case parse_bad[] = {
    {{"frobnicate", "x"}, "unknown command \"frobnicate\" (see kubectl cubit --help)"},
    {{"get"}, "get: want NAME, got 0 arguments (usage: kubectl cubit get NAME)"},
    {{"get", "a", "b"}, "get: want NAME, got 2 arguments (usage: kubectl cubit get NAME)"},
    {{"logs", "r", "t", "extra"}, "logs: want NAME [TASK], got 3 arguments (usage: kubectl cubit logs NAME [TASK])"},
    {{"get", "x", "--bogus"}, "unknown flag --bogus"},
    {{"get", "x", "-z"}, "unknown flag -z"},
    {{"get", "x", "-n"}, "flag --namespace needs a value"},
    {{"get", "x", "--namespace="}, "--namespace: empty"},
    {{"get", "x", "--follow"}, "flag --follow is not a flag of \"get\" (see kubectl cubit get --help)"},
    {{"logs", "x", "--follow=yes"}, "flag --follow takes no value"},
    {{"logs", "x", "-fx"}, "unknown flag -fx (flags are not combined)"},
    {{"logs", "x", "--attempt", "0"}, "--attempt: want an integer of at least 1, got \"0\""},
    {{"logs", "x", "--attempt", "two"}, "--attempt: want an integer of at least 1, got \"two\""},
    {{"logs", "x", "--replica", "-1"}, "--replica: want an integer of at least 0, got \"-1\""},
    {{"logs", "x", "--attempt", "2", "--all-attempts"}, "--attempt and --all-attempts cannot be used together"},
    {{"submit", "p", "-p", "novalue"}, "-p novalue: want name=value"},
    {{"submit", "p", "-p", "=v"}, "-p =v: the parameter name is empty"},
    {{"submit", "p", "-p", "a-b=1"},
     "-p a-b=1: a parameter name has letters, digits and '_' and does not start with a digit"},
    {{"submit", "p", "-p", "a=1", "-p", "a=2"}, "-p a=2: parameter a given twice"},
    {{"renew", "nb", "--for", "8"}, "--for: 8: a number needs a unit (s, m, h or d)"},
    {{"renew", "nb", "--for", "0h"}, "--for: 0h: must be longer than 0s"},
    {{"watch", "r", "--interval", "soon"}, "--interval: soon: not a duration (want e.g. 8h, 90m, 1h30m)"},
    {{"retry", "r", "--from", ""}, "--from: empty (want a task name)"},
    {{"get", "x", "-o", "csv"}, "--output: want json, yaml or wide, got \"csv\""},
    {{"usage", "-o", "table"}, "--output: want json, yaml or wide or csv, got \"table\""},
    {{"usage", "--by", "year"}, "--by: want day, week, month, member, gpu-model or project, got \"year\""},
    {{"usage", "--from", "yesterday"},
     "--from: yesterday: not a time (want 2026-12-01T06:00:00Z, a date 2026-12-01, or a duration ago such as 7d)"},
    {{"history", "--since", "7d", "--from", "2026-12-01"}, "--since and --from cannot be used together"},
    {{"history", "--kind", "job"},
     "--kind: want TrainingJob (tj), PipelineRun (plr), Notebook (nb) or InferenceService (isvc), got \"job\""},
    {{"history", "--limit", "0"}, "--limit: want an integer of at least 1, got \"0\""},
    {{"open", "lab", "--port", "65536"}, "--port: want a local port from 0 (any free one) to 65535, got \"65536\""},
    {{"open", "lab", "--port", "-1"}, "--port: want a local port from 0 (any free one) to 65535, got \"-1\""},
    {{"open", "lab", "--port", "http"}, "--port: want a local port from 0 (any free one) to 65535, got \"http\""},
    {{"open", "lab", "--port="}, "--port: want a local port from 0 (any free one) to 65535, got \"\""},
    {{"renew", "lab", "--port", "1"}, "flag --port is not a flag of \"renew\" (see kubectl cubit renew --help)"},
    {{"history", "--history-url", "cubit-history:443"}, "--history-url: want https://HOST[:PORT], got \"cubit-history:443\""},
    {{"history", "x"}, "history: want , got 1 argument (usage: kubectl cubit history )"},
    {{"backfill", "p", "--from", "2026-12-01"}, "backfill: --from and --to are required (the window of ticks to run)"},
    {{"completion", "fish"}, "completion: want bash or zsh, got \"fish\""},
    {{"logs", "x", "--project", "p"}, "flag --project is not a flag of \"logs\" (see kubectl cubit logs --help)"},
    {{"get", "x", "--token="}, "--token: empty"},
};

/* The flags of usage, history, backfill, retry --from and -o. */
typedef struct parse2_case {
  const char *argv[MAXARGS];
  cli_command cmd;
  cli_output output;
  const char *project, *by, *from, *to, *kind, *phase, *creator, *url, *token;
  int64_t since_s;
  int limit;
} parse2_case;

static const parse2_case parse_ok2[] = {
    {{"usage"}, CLI_CMD_USAGE, .limit = 100},
    {{"usage", "--project", "team-a", "--by", "week", "--from", "2026-11-01", "--to=2026-12-01T00:00:00Z", "-o", "csv"},
     CLI_CMD_USAGE, CLI_OUT_CSV, "team-a", "week", "2026-11-01", "2026-12-01T00:00:00Z", .limit = 100},
    {{"history", "--kind", "tj", "--phase", "Failed", "--creator", "alice", "--since", "7d", "--limit", "5", "-o",
      "wide"},
     CLI_CMD_HISTORY, CLI_OUT_WIDE, .kind = "TrainingJob", .phase = "Failed", .creator = "alice", .since_s = 7 * 86400,
     .limit = 5},
    {{"history", "--history-url", "https://127.0.0.1:8444", "--token", "t0k", "-ojson"}, CLI_CMD_HISTORY, CLI_OUT_JSON,
     .url = "https://127.0.0.1:8444", .token = "t0k", .limit = 100},
    {{"get", "r", "-o", "yaml"}, CLI_CMD_GET, CLI_OUT_YAML, .limit = 100},
    {{"retry", "r", "--from", "train"}, CLI_CMD_RETRY, .from = "train", .limit = 100},
    {{"backfill", "nightly", "--from", "3d", "--to", "1d"}, CLI_CMD_BACKFILL, .from = "3d", .to = "1d", .limit = 100},
    {{"completion", "zsh"}, CLI_CMD_COMPLETION, .limit = 100},
};

START_TEST(parse_valid2) {
  const parse2_case *c = &parse_ok2[_i];
  char *argv[MAXARGS + 1];
  int argc = argc_of(c->argv, argv);
  cli_args a;
  char err[256] = "";
  ck_assert_msg(cli_parse(argc, argv, &a, err, sizeof(err)) == 0, "case %d: %s", _i, err);
  ck_assert_int_eq(a.cmd, c->cmd);
  ck_assert_int_eq(a.output, c->output);
  str_eq(a.project, c->project, "project");
  str_eq(a.by, c->by, "by");
  str_eq(a.from, c->from, "from");
  str_eq(a.to, c->to, "to");
  str_eq(a.kind, c->kind, "kind");
  str_eq(a.phase, c->phase, "phase");
  str_eq(a.creator, c->creator, "creator");
  str_eq(a.history_url, c->url, "history_url");
  str_eq(a.token, c->token, "token");
  ck_assert_int_eq(a.since_s, c->since_s);
  ck_assert_int_eq(a.limit, c->limit);
  cli_args_free(&a);
}
END_TEST

START_TEST(when_parse) {
  static const struct {
    const char *in;
    int64_t want; /* -1: invalid */
  } cases[] = {{"2026-12-01T06:00:00Z", 1796104800}, {"2026-12-01", 1796083200}, {"7d", 1796083200 - 7 * 86400},
               {"1h30m", 1796083200 - 5400}, {"2026-13-01", -1}, {"tomorrow", -1}, {"", -1}, {"2026-12-01T25:00:00Z", -1},
               {"0910-11-01", -1} /* before 1970: found by fuzz_cli_args */};
  for (size_t i = 0; i < N(cases); i++) {
    int64_t got = -7;
    char err[200] = "";
    int rc = cli_parse_when(cases[i].in, 1796083200, &got, err, sizeof(err));
    if (cases[i].want < 0) ck_assert_msg(rc == CUBIT_EINVAL && err[0], "\"%s\" accepted", cases[i].in);
    else ck_assert_msg(rc == 0 && got == cases[i].want, "\"%s\": %lld (%s)", cases[i].in, (long long)got, err);
  }
}
END_TEST

START_TEST(parse_invalid) {
  const bad_case *c = &parse_bad[_i];
  char *argv[MAXARGS + 1];
  int argc = argc_of(c->argv, argv);
  cli_args a;
  char err[256] = "";
  ck_assert_int_eq(cli_parse(argc, argv, &a, err, sizeof(err)), CLI_EXIT_USAGE);
  str_eq(err, c->message, "message");
  ck_assert_ptr_null(a.params); /* nothing left to free after an error */
}
END_TEST

typedef struct duration_case {
  const char *in;
  int64_t want; /* -1: invalid */
} duration_case;

static const duration_case durations[] = {
    {"90s", 90}, {"15m", 900}, {"8h", 28800}, {"1h30m", 5400}, {"2d", 172800}, {"1d2h3m4s", 93784},
    {"", -1}, {"h", -1}, {"10", -1}, {"10x", -1}, {"-5m", -1}, {"0s", -1}, {"400d", -1}, {"99999999999h", -1},
};

START_TEST(duration_parse) {
  const duration_case *c = &durations[_i];
  int64_t got = -7;
  char err[160] = "";
  int rc = cli_parse_duration(c->in, &got, err, sizeof(err));
  if (c->want < 0) {
    ck_assert_int_eq(rc, CUBIT_EINVAL);
    ck_assert_msg(err[0] != '\0', "no message for \"%s\"", c->in);
    ck_assert_int_eq(got, 0);
  } else {
    ck_assert_msg(rc == 0, "\"%s\": %s", c->in, err);
    ck_assert_int_eq(got, c->want);
  }
}
END_TEST

START_TEST(duration_format) {
  static const struct {
    int64_t s;
    const char *want;
  } cases[] = {{0, "0s"}, {59, "59s"}, {60, "1m0s"}, {3723, "1h2m3s"}, {90000, "25h0m0s"}, {-1, ""}};
  for (size_t i = 0; i < N(cases); i++) {
    char out[32];
    cli_format_duration(cases[i].s, out, sizeof(out));
    str_eq(out, cases[i].want, "duration");
  }
}
END_TEST

/* ---------------------------------------------------------- trees */

static json_t *fixture(const char *name) {
  char rel[128];
  snprintf(rel, sizeof(rel), "test/unit/fixtures/cli/%s", name);
  char *path = testutil_src_path(rel);
  json_error_t e;
  json_t *v = json_load_file(path, 0, &e);
  ck_assert_msg(v != NULL, "%s: %s", path, e.text);
  free(path);
  return v;
}

static void golden(const cubit_buf *got, const char *name) {
  char rel[128];
  snprintf(rel, sizeof(rel), "test/unit/fixtures/cli/%s", name);
  size_t len;
  /* CUBIT_UPDATE_GOLDEN=1 writes what was rendered (then review the diff). */
  if (getenv("CUBIT_UPDATE_GOLDEN")) {
    char *path = testutil_src_path(rel);
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "cannot write %s", path);
    fwrite(got->data, 1, got->len, f);
    fclose(f);
    free(path);
  }
  char *want = testutil_read_src(rel, &len);
  ck_assert_msg(want != NULL, "cannot read %s", rel);
  ck_assert_msg(got->len == len && memcmp(got->data, want, len) == 0, "%s differs; got:\n%.*s", name, (int)got->len,
                got->data);
  free(want);
}

static int64_t at(const char *t) {
  int64_t v;
  ck_assert_int_eq(time_parse_rfc3339(t, &v), 0);
  return v;
}

START_TEST(run_tree_golden) {
  json_t *run = fixture("run-diamond.json"), *tjs = fixture("run-diamond-tjs.json");
  cubit_buf out;
  buf_init(&out, 1 << 20);
  ck_assert_int_eq(cli_render_run(run, tjs, at("2026-12-07T06:02:00Z"), 0, &out), 0);
  golden(&out, "run-diamond.golden");
  buf_free(&out);
  json_decref(run);
  json_decref(tjs);
}
END_TEST

START_TEST(trainingjob_tree_golden) {
  json_t *tj = fixture("tj.json"), *pods = fixture("tj-pods.json");
  cubit_buf out;
  buf_init(&out, 1 << 20);
  ck_assert_int_eq(cli_render_trainingjob(tj, pods, at("2026-12-07T06:02:00Z"), 0, &out), 0);
  golden(&out, "tj.golden");
  buf_free(&out);
  json_decref(tj);
  json_decref(pods);
}
END_TEST

/* usage and history: the API's answers as tables, CSV and YAML. */
typedef struct render_case {
  const char *fixture, *golden;
  int kind; /* 0 usage, 1 history, 2 -o yaml of the fixture */
  cli_output o;
} render_case;

static const render_case renders[] = {
    {"usage-day.json", "usage-day.golden", 0, CLI_OUT_TABLE},
    {"usage-day.json", "usage-day-wide.golden", 0, CLI_OUT_WIDE},
    {"usage-member.json", "usage-member.csv", 0, CLI_OUT_CSV},
    {"history.json", "history.golden", 1, CLI_OUT_TABLE},
    {"history.json", "history-wide.golden", 1, CLI_OUT_WIDE},
    {"history.json", "history.yaml", 2, CLI_OUT_YAML},
    {"run-diamond.json", "run-diamond.yaml", 2, CLI_OUT_YAML},
};

START_TEST(render_golden) {
  const render_case *c = &renders[_i];
  json_t *in = fixture(c->fixture);
  cubit_buf out;
  buf_init(&out, 1 << 20);
  int rc = c->kind == 0   ? cli_render_usage(in, c->o, &out)
           : c->kind == 1 ? cli_render_history(in, c->o, at("2026-12-01T08:00:00Z"), &out)
                          : cli_write_data(in, c->o, &out);
  ck_assert_int_eq(rc, 0);
  golden(&out, c->golden);
  buf_free(&out);
  json_decref(in);
}
END_TEST

/* -o wide of get: a run's tasks and attempts with their start and finish,
 * a TrainingJob's pods with IP and start, an Experiment's trials with theirs. */
START_TEST(wide_golden) {
  json_t *run = fixture("run-diamond.json"), *tjs = fixture("run-diamond-tjs.json");
  json_t *tj = fixture("tj.json"), *pods = fixture("tj-pods.json");
  json_t *exp = fixture("experiment.json"), *trials = fixture("experiment-tjs.json");
  cubit_buf out;
  buf_init(&out, 1 << 20);
  ck_assert_int_eq(cli_render_run(run, tjs, at("2026-12-07T06:02:00Z"), 1, &out), 0);
  golden(&out, "run-diamond-wide.golden");
  buf_reset(&out);
  ck_assert_int_eq(cli_render_trainingjob(tj, pods, at("2026-12-07T06:02:00Z"), 1, &out), 0);
  golden(&out, "tj-wide.golden");
  buf_reset(&out);
  ck_assert_int_eq(cli_render_experiment(exp, trials, at("2026-12-07T06:02:00Z"), 1, &out), 0);
  golden(&out, "experiment-wide.golden");
  buf_free(&out);
  json_decref(run);
  json_decref(tjs);
  json_decref(tj);
  json_decref(pods);
  json_decref(exp);
  json_decref(trials);
}
END_TEST

/* An Experiment's trials: with the status' best and recent trials, and
 * with no status (each trial's own record; the best found by the
 * objective, an early-stopped trial's value its last observation). */
START_TEST(experiment_golden) {
  static const char *cases[][2] = {{"experiment.json", "experiment.golden"},
                                   {"experiment-bare.json", "experiment-bare.golden"}};
  json_t *tjs = fixture("experiment-tjs.json");
  for (size_t i = 0; i < N(cases); i++) {
    json_t *exp = fixture(cases[i][0]);
    cubit_buf out;
    buf_init(&out, 1 << 20);
    ck_assert_int_eq(cli_render_experiment(exp, tjs, at("2026-12-07T06:02:00Z"), 0, &out), 0);
    golden(&out, cases[i][1]);
    buf_free(&out);
    json_decref(exp);
  }
  /* No trials yet, no status at all. */
  json_t *bare = json_pack("{s:{s:s}}", "metadata", "name", "e");
  json_t *none = json_array();
  cubit_buf out;
  buf_init(&out, 1 << 20);
  ck_assert_int_eq(cli_render_experiment(bare, none, 0, 0, &out), 0);
  ck_assert_str_eq(out.data, "Name:       e\nPhase:      Pending\nTrials:     0 (0 going, 0 succeeded, 0 failed)\n\n"
                             "(no trials yet)\n");
  buf_free(&out);
  json_decref(bare);
  json_decref(none);
  json_decref(tjs);
}
END_TEST

/* The YAML written reads back as the same JSON (libyaml through
 * yaml_to_json). */
START_TEST(yaml_round_trip) {
  static const char *docs[] = {("{\"a\":{\"b\":[1,2,{\"c\":\"x y\",\"d\":[]}],\"e\":{}},\"f\":[[\"g\"]],"
                                "\"yes\":\"no\",\"n\":null,\"t\":true,\"s\":\"007\",\"q\":\"a: b\",\"u\":\"\\u00e9\\n\"}"),
                               "[]", "[{\"k\":1},{\"k\":[{\"z\":\"-\"}]}]"};
  for (size_t i = 0; i < N(docs); i++) {
    json_t *v = json_loads(docs[i], 0, NULL);
    ck_assert_ptr_nonnull(v);
    cubit_buf out;
    buf_init(&out, 1 << 20);
    ck_assert_int_eq(cli_write_data(v, CLI_OUT_YAML, &out), 0);
    json_t *back = NULL;
    char err[256] = "";
    ck_assert_msg(yaml_to_json(out.data, out.len, &back, err, sizeof(err)) == 0, "%s:\n%s", err, out.data);
    ck_assert_msg(json_equal(v, back), "doc %zu read back differently:\n%s", i, out.data);
    json_decref(back);
    json_decref(v);
    buf_free(&out);
  }
}
END_TEST

START_TEST(history_paths) {
  char *argv[MAXARGS + 1];
  const char *args[MAXARGS] = {"history", "--project", "team a", "--kind", "plr", "--creator", "system:sa:x",
                               "--since", "1d"};
  int argc = argc_of(args, argv);
  cli_args a;
  char err[256];
  ck_assert_int_eq(cli_parse(argc, argv, &a, err, sizeof(err)), 0);
  char *p = cli_history_path(&a, "ns1", "u-9", 50, at("2026-12-02T00:00:00Z"));
  ck_assert_str_eq(p, "/api/v1/runs?project=team%20a&kind=PipelineRun&namespace=ns1&user=system%3Asa%3Ax"
                      "&from=2026-12-01T00%3A00%3A00Z&limit=50&after=u-9");
  free(p);
  cli_args_free(&a);
  const char *u[MAXARGS] = {"usage", "--by", "gpu-model", "--from", "2026-11-01", "--to", "1d"};
  argc = argc_of(u, argv);
  ck_assert_int_eq(cli_parse(argc, argv, &a, err, sizeof(err)), 0);
  p = cli_usage_path(&a, at("2026-12-02T00:00:00Z"));
  ck_assert_str_eq(p, "/api/v1/usage?by=gpu-model&from=2026-11-01T00%3A00%3A00Z&to=2026-12-01T00%3A00%3A00Z");
  free(p);
  cli_args_free(&a);
}
END_TEST

/* The completion script names every command and, per command, its flags. */
START_TEST(completion_script) {
  static const char *shells[] = {"bash", "zsh"};
  for (size_t i = 0; i < N(shells); i++) {
    cubit_buf out;
    buf_init(&out, 1 << 20);
    ck_assert_int_eq(cli_completion(shells[i], &out), 0);
    ck_assert_ptr_nonnull(strstr(out.data, "'help get tree watch submit logs retry stop resume renew open usage history "
                                           "backfill completion'"));
    ck_assert_ptr_nonnull(strstr(out.data, "    backfill) words=' --kubeconfig --context --namespace -n --help -h "
                                           "--interval --token --from --to'; kinds='pipelines';;"));
    ck_assert_ptr_nonnull(strstr(out.data, "complete -F _kubectl_cubit kubectl-cubit"));
    buf_free(&out);
  }
}
END_TEST

/* A run that has not started has no copy of its pipeline: the tree says so;
 * a finished one has no growing duration. */
START_TEST(run_tree_states) {
  json_t *run = json_pack("{s:{s:s, s:s}, s:{s:{s:s}}, s:{s:s, s:s}}", "metadata", "name", "r", "namespace", "ns",
                          "spec", "pipelineRef", "name", "p", "status", "phase", "Pending", "message",
                          "waiting for Pipeline p");
  cubit_buf out;
  buf_init(&out, 1 << 20);
  ck_assert_int_eq(cli_render_run(run, NULL, 0, 0, &out), 0);
  str_eq(out.data,
         "Name:        r\nNamespace:   ns\nPipeline:    p\nPhase:       Pending\nMessage:     waiting for Pipeline p\n"
         "\n(no tasks yet: the run has not started)\n",
         "pending run");
  json_decref(run);
  buf_reset(&out);
  run = json_pack("{s:{s:s}, s:{s:s, s:s, s:s, s:{s:[{s:s}]}, s:{s:{s:s, s:i, s:s, s:s, s:s}}}}", "metadata", "name",
                  "r", "status", "phase", "Failed", "startTime", "2026-12-07T06:00:00Z", "completionTime",
                  "2026-12-07T06:00:10Z", "pipelineSpec", "tasks", "name", "only", "nodes", "only", "phase", "Failed",
                  "attempts", 1, "startTime", "2026-12-07T06:00:00Z", "finishTime", "2026-12-07T06:00:09Z", "message",
                  "exit 1");
  ck_assert_int_eq(cli_render_run(run, NULL, at("2026-12-07T07:00:00Z"), 0, &out), 0);
  ck_assert_ptr_nonnull(strstr(out.data, "Duration:    10s\n"));
  ck_assert_ptr_nonnull(strstr(out.data, "\nonly  Failed     1        9s                                 exit 1\n"));
  int code = -1;
  ck_assert_int_eq(cli_run_finished(run, &code), 0);
  ck_assert_int_eq(code, CLI_EXIT_FAILED);
  json_object_set_new(json_object_get(run, "status"), "phase", json_string("Succeeded"));
  ck_assert_int_eq(cli_run_finished(run, &code), 0);
  ck_assert_int_eq(code, CLI_EXIT_OK);
  json_object_set_new(json_object_get(run, "status"), "phase", json_string("Running"));
  ck_assert_int_eq(cli_run_finished(run, &code), 1);
  buf_free(&out);
  json_decref(run);
}
END_TEST

/* ---------------------------------------------------------- logs */

typedef struct attempts_case {
  const char *task;
  int attempt, all;
  const char *want; /* names, comma-separated */
} attempts_case;

static const attempts_case attempts[] = {
    {NULL, 0, 0, "diamond-x7k2p-a-1,diamond-x7k2p-b-2,diamond-x7k2p-c-1,diamond-x7k2p-d-1"},
    {"b", 0, 0, "diamond-x7k2p-b-2"},
    {"b", 1, 0, "diamond-x7k2p-b-1"},
    {"b", 0, 1, "diamond-x7k2p-b-1,diamond-x7k2p-b-2"},
    {NULL, 1, 0, "diamond-x7k2p-a-1,diamond-x7k2p-b-1,diamond-x7k2p-c-1,diamond-x7k2p-d-1"},
    {"b", 3, 0, ""},
    {"nope", 0, 0, ""},
};

static void names_eq(const json_t *arr, const char *want) {
  char got[512] = "";
  size_t i, n = 0;
  json_t *o;
  json_array_foreach(arr, i, o) n += (size_t)snprintf(got + n, sizeof(got) - n, "%s%s", i ? "," : "",
                                                      json_string_value(json_object_get(json_object_get(o, "metadata"), "name")));
  str_eq(got, want, "picked");
}

START_TEST(pick_attempts) {
  const attempts_case *c = &attempts[_i];
  json_t *tjs = fixture("run-diamond-tjs.json");
  json_t *got = cli_pick_attempts(tjs, c->task, c->attempt, c->all);
  names_eq(got, c->want);
  json_decref(got);
  json_decref(tjs);
}
END_TEST

START_TEST(pick_pods) {
  static const struct {
    const char *role;
    int replica;
    const char *want;
  } cases[] = {
      {NULL, -1, "resnet-master-0,resnet-worker-0,resnet-worker-1"},
      {"worker", -1, "resnet-worker-0,resnet-worker-1"},
      {"worker", 1, "resnet-worker-1"},
      {NULL, 0, "resnet-master-0,resnet-worker-0"},
      {"chief", -1, ""},
  };
  json_t *pods = fixture("tj-pods.json");
  for (size_t i = 0; i < N(cases); i++) {
    json_t *got = cli_pick_pods(pods, cases[i].role, cases[i].replica);
    names_eq(got, cases[i].want);
    json_decref(got);
  }
  /* Without the engines' labels the index is the number ending the name. */
  json_t *bare = json_pack("[{s:{s:s}}, {s:{s:s}}, {s:{s:s}}]", "metadata", "name", "job-a-7", "metadata", "name",
                           "job-b-12", "metadata", "name", "nonumber");
  json_t *got = cli_pick_pods(bare, NULL, 12);
  names_eq(got, "job-b-12");
  json_decref(got);
  json_decref(bare);
  /* The container read: the default-container annotation, else the first. */
  str_eq(cli_log_container(json_array_get(pods, 1)), "pytorch", "first container");
  str_eq(cli_log_container(json_array_get(pods, 2)), "trainer", "annotated container");
  json_decref(pods);
}
END_TEST

typedef struct prefix_case {
  const char *label;
  const char *chunks[4];
  const char *want;
} prefix_case;

static const prefix_case prefixes[] = {
    {"pod-a", {"one\ntwo\n"}, "[pod-a] one\n[pod-a] two\n"},
    {"pod-a", {"par", "tial\nnext", " line"}, "[pod-a] partial\n[pod-a] next line\n"},
    {NULL, {"plain\n", "no newline at end"}, "plain\nno newline at end\n"},
    {"p", {"\n\n"}, "[p] \n[p] \n"},
    {"p", {""}, ""},
};

START_TEST(prefix_lines) {
  const prefix_case *c = &prefixes[_i];
  cli_prefixer p;
  cli_prefixer_init(&p, c->label);
  cubit_buf out;
  buf_init(&out, 1 << 20);
  for (size_t k = 0; k < N(c->chunks) && c->chunks[k]; k++)
    ck_assert_int_eq(cli_prefixer_feed(&p, c->chunks[k], strlen(c->chunks[k]), &out), 0);
  ck_assert_int_eq(cli_prefixer_flush(&p, &out), 0);
  str_eq(out.len ? out.data : "", c->want, "prefixed");
  buf_free(&out);
  cli_prefixer_free(&p);
}
END_TEST

typedef struct suggest_case {
  const char *typed;
  const char *want; /* NULL: no suggestion */
} suggest_case;

static const char *const existing[] = {"nightly-31", "nightly-1773118800", "etl-abcde", "train", "lab", "resnet-50"};

static const suggest_case suggestions[] = {
    {"nightly-3", "nightly-31"},  /* the start of one */
    {"nigthly-31", "nightly-31"}, /* two letters swapped */
    {"trian", "train"},
    {"lba", "lab"},               /* short names: one edit */
    {"resnet50", "resnet-50"},
    {"etl-abcdf", "etl-abcde"},
    {"zzz", NULL},
    {"completely-different", NULL},
    {"train", NULL},              /* itself is not a suggestion */
};

START_TEST(did_you_mean) {
  const suggest_case *c = &suggestions[_i];
  str_eq(cli_suggest(existing, N(existing), c->typed), c->want, c->typed);
}
END_TEST

START_TEST(help_texts) {
  static const char *commands[] = {"get",  "tree",  "watch",   "submit",   "logs",     "retry",     "stop",
                                   "resume", "renew", "open", "usage", "history", "backfill", "completion"};
  for (size_t i = 0; i < N(commands); i++) {
    const char *h = cli_help(commands[i]);
    ck_assert_msg(strncmp(h, "Usage: kubectl cubit ", 21) == 0, "%s: %s", commands[i], h);
  }
  ck_assert_ptr_nonnull(strstr(cli_help(NULL), "Exit codes:"));
}
END_TEST

/* Which way logs go: a TrainingJob placed on a member is read through the
 * manager (its user cannot reach the member); one in the hub as before. */
static const struct {
  const char *status;
  const char *member; /* NULL: the hub */
} placements[] = {
    {"{}", NULL},
    {"{\"cluster\":\"local\"}", NULL},
    {"{\"cluster\":\"\"}", NULL},
    {"{\"cluster\":\"gpu-east\"}", "gpu-east"},
};

START_TEST(member_logs_route) {
  json_t *tj = json_pack("{s:{s:s}, s:o}", "metadata", "name", "train", "status", json_loads(placements[_i].status, 0, NULL));
  const char *m = cli_member_of(tj);
  if (placements[_i].member == NULL) ck_assert_msg(m == NULL, "%s: read from %s", placements[_i].status, m);
  else ck_assert_str_eq(m, placements[_i].member);
  json_decref(tj);
}
END_TEST

START_TEST(member_logs_paths) {
  char *p = cli_member_logs_path("team-a", "trainingjobs", "train", NULL, NULL, NULL, 0);
  ck_assert_str_eq(p, "/cluster-logs/v1/namespaces/team-a/trainingjobs/train/pods");
  free(p);
  p = cli_member_logs_path("team-a", "trainingjobs", "train", "train-0", "main", "2026-12-07T10:00:05Z", 1);
  ck_assert_str_eq(p, "/cluster-logs/v1/namespaces/team-a/trainingjobs/train/pods/train-0/log?container=main&sinceTime="
                      "2026-12-07T10:00:05Z&timestamps=true");
  free(p);
  /* A Notebook's or an InferenceService's pods, placed on a member too. */
  p = cli_member_logs_path("team-a", "notebooks", "lab", "lab-0", "notebook", NULL, 0);
  ck_assert_str_eq(p, "/cluster-logs/v1/namespaces/team-a/notebooks/lab/pods/lab-0/log?container=notebook");
  free(p);
  p = cli_member_logs_path("team-a", "inferenceservices", "bert", NULL, NULL, NULL, 0);
  ck_assert_str_eq(p, "/cluster-logs/v1/namespaces/team-a/inferenceservices/bert/pods");
  free(p);
}
END_TEST

/* A follower's answers overlap (each starts at the newest line's second):
 * every line is printed once, without its time, in order. */
START_TEST(member_log_follow_dedupes) {
  static const char *const answers[] = {
      "2026-12-07T10:00:05.5Z epoch 1\n2026-12-07T10:00:05.5Z epoch 2\n",
      ("2026-12-07T10:00:05.5Z epoch 1\n2026-12-07T10:00:05.5Z epoch 2\n2026-12-07T10:00:05.123456789Z late\n"
       "2026-12-07T10:00:06.25Z epoch 3\n"),
      "2026-12-07T10:00:06.25Z epoch 3\n",
      "2026-12-07T10:00:06.25Z epoch 3\n2026-12-07T10:00:07Z done\n",
  };
  cli_prefixer px;
  cli_prefixer_init(&px, "train-0");
  cubit_buf out;
  buf_init(&out, 1 << 20);
  char newest[40] = "";
  for (size_t i = 0; i < sizeof(answers) / sizeof(answers[0]); i++) {
    char after[40];
    snprintf(after, sizeof(after), "%s", newest);
    ck_assert_int_eq(cli_member_log_feed(answers[i], strlen(answers[i]), after, newest, &px, &out), 0);
  }
  ck_assert_int_eq(cli_prefixer_flush(&px, &out), 0);
  ck_assert_int_eq(buf_append(&out, "", 1), 0);
  ck_assert_str_eq(out.data, "[train-0] epoch 1\n[train-0] epoch 2\n[train-0] epoch 3\n[train-0] done\n");
  ck_assert_str_eq(newest, "2026-12-07T10:00:07.000000000Z");
  cli_prefixer_free(&px);
  buf_free(&out);
}
END_TEST

int main(void) {
  Suite *s = suite_create("cli");
  TCase *tc = tcase_create("core");
  tcase_add_loop_test(tc, parse_valid, 0, N(parse_ok));
  tcase_add_loop_test(tc, parse_port, 0, N(port_ok));
  tcase_add_loop_test(tc, parse_invalid, 0, N(parse_bad));
  tcase_add_loop_test(tc, parse_valid2, 0, N(parse_ok2));
  tcase_add_test(tc, when_parse);
  tcase_add_loop_test(tc, render_golden, 0, N(renders));
  tcase_add_test(tc, yaml_round_trip);
  tcase_add_test(tc, experiment_golden);
  tcase_add_test(tc, wide_golden);
  tcase_add_test(tc, history_paths);
  tcase_add_test(tc, completion_script);
  tcase_add_loop_test(tc, duration_parse, 0, N(durations));
  tcase_add_test(tc, duration_format);
  tcase_add_test(tc, run_tree_golden);
  tcase_add_test(tc, trainingjob_tree_golden);
  tcase_add_test(tc, run_tree_states);
  tcase_add_loop_test(tc, pick_attempts, 0, N(attempts));
  tcase_add_test(tc, pick_pods);
  tcase_add_loop_test(tc, prefix_lines, 0, N(prefixes));
  tcase_add_loop_test(tc, did_you_mean, 0, N(suggestions));
  tcase_add_test(tc, help_texts);
  tcase_add_loop_test(tc, member_logs_route, 0, N(placements));
  tcase_add_test(tc, member_logs_paths);
  tcase_add_test(tc, member_log_follow_dedupes);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
