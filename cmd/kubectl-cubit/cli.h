/* kubectl-cubit: the command line for Cubit's kinds (issue 17).
 *
 *   args.c    the command line: global flags as kubectl has them, each
 *             command's flags, durations and -p name=value (pure)
 *   render.c  a PipelineRun as a tree of tasks, a TrainingJob as roles and
 *             pods, from the objects' status and Cubit's labels (pure)
 *   logs.c    which pods a logs command reads, and per-pod line prefixes
 *             (pure)
 *   suggest.c the closest existing name to a mistyped one (pure)
 *   forward.c open's port-forward: a local listener, a stream per
 *             connection through the API server (kube/portforward.h)
 *   main.c    the commands: API calls through pkg/kube, output, exit codes
 *
 * The pure parts take the objects and the clock as inputs so the unit tests
 * (test/unit/test_cli.c) check them against fixtures and golden text. */
#ifndef CUBIT_CMD_KUBECTL_CUBIT_CLI_H
#define CUBIT_CMD_KUBECTL_CUBIT_CLI_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "util/buf.h"
#include "util/err.h"

/* Exit codes (docs/cli.md). */
enum {
  CLI_EXIT_OK = 0,        /* done; watch/submit --watch: the run Succeeded */
  CLI_EXIT_FAILED = 1,    /* watch/submit --watch: the run Failed */
  CLI_EXIT_USAGE = 2,     /* bad arguments */
  CLI_EXIT_NOTFOUND = 3,  /* the named object does not exist */
  CLI_EXIT_ERROR = 4      /* kubeconfig, API server or refused request */
};

typedef enum {
  CLI_CMD_NONE,
  CLI_CMD_HELP,
  CLI_CMD_GET,    /* get and tree */
  CLI_CMD_WATCH,
  CLI_CMD_SUBMIT,
  CLI_CMD_LOGS,
  CLI_CMD_RETRY,
  CLI_CMD_STOP,
  CLI_CMD_RESUME,
  CLI_CMD_RENEW,
  CLI_CMD_OPEN,
  CLI_CMD_USAGE,
  CLI_CMD_HISTORY,
  CLI_CMD_BACKFILL,
  CLI_CMD_COMPLETION
} cli_command;

/* -o: how a command prints. */
typedef enum { CLI_OUT_TABLE, CLI_OUT_WIDE, CLI_OUT_JSON, CLI_OUT_YAML, CLI_OUT_CSV } cli_output;

typedef struct cli_param {
  char *name;
  char *value;
} cli_param;

/* The parsed command line. Strings point into argv except params (owned:
 * cli_args_free). */
typedef struct cli_args {
  cli_command cmd;
  const char *cmd_name;   /* as typed: "tree" for CLI_CMD_GET */
  const char *help_for;   /* help COMMAND, or COMMAND --help */
  /* kubectl's global flags */
  const char *kubeconfig;
  const char *context;
  const char *ns;
  const char *token;      /* --token: the bearer token instead of the kubeconfig user's */
  /* positionals: the object, then (logs RUN TASK) the task */
  const char *name;
  const char *task;
  /* command flags; 0/NULL when not given */
  int follow;
  int attempt;            /* logs --attempt N (>= 1) */
  int all_attempts;
  const char *role;
  int replica;            /* logs --replica I; -1 when not given */
  int trial;              /* logs EXPERIMENT --trial N (>= 1); 0 = every trial */
  const char *revision;
  int watch;              /* submit --watch */
  int64_t for_s;          /* renew --for D; 0 when not given */
  int64_t interval_ms;    /* watch/--watch redraw period, default 2000 */
  cli_param *params;
  size_t nparams;
  cli_output output;      /* -o */
  /* usage, history, backfill, retry --from */
  const char *project;
  const char *by;         /* usage --by: day (default), week, month, member, gpu-model, project */
  const char *from;       /* a time (usage, history, backfill) or retry's TASK */
  const char *to;
  int64_t since_s;        /* history/usage --since D: from now - D */
  const char *kind;       /* history --kind, canonical (TrainingJob, PipelineRun, ...) */
  const char *phase;
  const char *creator;
  int limit;              /* history --limit, default 100 */
  const char *history_url;/* --history-url */
  int port;               /* open --port N: the local port to forward (0 = any free one); -1 when not given */
} cli_args;

/* Parses argv (argv[0] is the program). Returns 0, or CLI_EXIT_USAGE with a
 * message naming the flag or argument in err. */
int cli_parse(int argc, char **argv, cli_args *out, char *err, size_t errlen) CUBIT_WUR;
void cli_args_free(cli_args *a);

/* The completion script for shell "bash" or "zsh" (from the command and
 * flag tables, so it never falls behind them). */
int cli_completion(const char *shell, cubit_buf *out) CUBIT_WUR;

/* The help text of a command (NULL: the overview); never NULL. */
const char *cli_help(const char *command);

/* "90s", "15m", "8h", "1h30m", "2d": a positive duration in seconds.
 * Returns 0 or CUBIT_EINVAL with the reason in err. */
int cli_parse_duration(const char *s, int64_t *out, char *err, size_t errlen) CUBIT_WUR;
/* "name=value" (value may be empty and may contain '='); the name is a
 * parameter name: letters, digits and '_', not starting with a digit. */
int cli_parse_param(const char *s, cli_param *out, char *err, size_t errlen) CUBIT_WUR;
/* A time on the command line: RFC 3339 ("2026-12-01T06:00:00Z"), a UTC
 * date ("2026-12-01", its midnight), or a duration ago ("7d": now - 7d).
 * Returns 0 or CUBIT_EINVAL with the reason in err. */
int cli_parse_when(const char *s, int64_t now, int64_t *out, char *err, size_t errlen) CUBIT_WUR;
/* 3723 -> "1h2m3s", 0 -> "0s"; negative -> "". */
void cli_format_duration(int64_t secs, char *out, size_t len);

/* Of names (n of them), the one closest to typed, for "did you mean":
 * within a third of its length in edits (at least one), or one that typed
 * begins; NULL when none is close. */
const char *cli_suggest(const char *const *names, size_t n, const char *typed);

/* ---------------------------------------------------------- render */

/* wide (-o wide): a run's tasks and attempts also say when they started and
 * finished; a TrainingJob's pods their IP and start; an Experiment's trials
 * theirs. */
/* A PipelineRun as a header and a tree of its tasks (by their first
 * dependency), one line per task: phase, attempt, duration, TrainingJob,
 * message, and the outputs under it. tjs (an array of the run's
 * TrainingJobs, may be NULL) adds a line per earlier attempt of a task that
 * was tried more than once. now: seconds since the epoch, for durations of
 * what still runs. */
int cli_render_run(const json_t *run, const json_t *tjs, int64_t now, int wide, cubit_buf *out) CUBIT_WUR;
/* A TrainingJob: header, then each role with its counts and its pods
 * (pods: an array of the job's pods, may be NULL). */
int cli_render_trainingjob(const json_t *tj, const json_t *pods, int64_t now, int wide, cubit_buf *out) CUBIT_WUR;
/* An Experiment: objective, algorithm, trial counts and the best trial,
 * then one row per trial (tjs: the TrainingJobs labelled
 * cubit.dev/experiment=NAME): number, state, value, duration, TrainingJob
 * and parameters. The Experiment's status is read defensively (status.trials
 * records by number or name; status.best, bestTrial or currentOptimalTrial;
 * else the best value by spec.objective.type). */
int cli_render_experiment(const json_t *exp, const json_t *tjs, int64_t now, int wide, cubit_buf *out) CUBIT_WUR;
/* The run's outcome: 1 while it goes on, else 0 with *exit_code set to
 * CLI_EXIT_OK (Succeeded) or CLI_EXIT_FAILED. */
int cli_run_finished(const json_t *run, int *exit_code);

/* ---------------------------------------------------------- logs */

/* Of a run's TrainingJobs (array), those a logs command reads, as a new
 * array of borrowed-then-increfed objects sorted by task then attempt:
 * task (NULL = every task), attempt (0 = the newest of each task), all (every
 * attempt). */
json_t *cli_pick_attempts(const json_t *tjs, const char *task, int attempt, int all);
/* Of pods (array), those of role (NULL = any) and replica index (-1 = any),
 * as a new array sorted by name. The index is the pod's
 * training.kubeflow.org/replica-index label, its
 * batch.kubernetes.io/job-completion-index label or annotation, or else the
 * number ending its name. */
json_t *cli_pick_pods(const json_t *pods, const char *role, int replica);
/* The container to read: the kubectl.kubernetes.io/default-container
 * annotation, else the first container. Borrowed from pod. */
const char *cli_log_container(const json_t *pod);

/* Splits a pod's log into lines, each written with the pod's prefix
 * ("[name] ", or none when one pod is read). Bytes after the last newline
 * wait for the next feed or the flush. */
typedef struct cli_prefixer {
  char prefix[320];
  cubit_buf partial;
} cli_prefixer;

void cli_prefixer_init(cli_prefixer *p, const char *label);
int cli_prefixer_feed(cli_prefixer *p, const char *data, size_t len, cubit_buf *out) CUBIT_WUR;
/* Writes a pending partial line (ending it with a newline). */
int cli_prefixer_flush(cli_prefixer *p, cubit_buf *out) CUBIT_WUR;
void cli_prefixer_free(cli_prefixer *p);

/* Logs of a TrainingJob placed on a member cluster, which its user cannot
 * reach: read through the hub's manager (docs/cli.md#logs). The member the
 * job runs in (status.cluster), or NULL when it runs in the hub. */
const char *cli_member_of(const json_t *tj);
/* The manager's path for the pods there of the object 'owner' of kind
 * 'plural' (trainingjobs, notebooks, inferenceservices) (pod NULL), or one
 * pod's log (since: an RFC 3339 time or NULL; timestamps: each line starts
 * with its time). Names are Kubernetes names (no escaping needed). Caller
 * frees. */
char *cli_member_logs_path(const char *ns, const char *plural, const char *owner, const char *pod, const char *container,
                           const char *since, int timestamps);
/* One answer of a timestamped log: writes (through p, without the time) the
 * lines newer than 'after' ("" for all), and raises 'newest' (a sortable
 * time, "" at first) to the newest seen: a follower asks again from there. */
int cli_member_log_feed(const char *data, size_t len, const char *after, char newest[40], cli_prefixer *p,
                        cubit_buf *out) CUBIT_WUR;

/* ---------------------------------------------------------- tables */

/* Rows of cells printed in aligned columns (cells copied). */
typedef struct cli_table {
  char **cells;
  size_t ncols, nrows;
} cli_table;

void cli_table_init(cli_table *t, size_t ncols);
void cli_table_add(cli_table *t, const char *const *cells);
int cli_table_write(const cli_table *t, cubit_buf *out) CUBIT_WUR;
void cli_table_free(cli_table *t);
/* One CSV field (RFC 4180: quoted when it holds , " or a line break). */
int cli_csv_field(const char *s, cubit_buf *out) CUBIT_WUR;
/* -o json (indented) or -o yaml of any JSON value. */
int cli_write_data(const json_t *v, cli_output o, cubit_buf *out) CUBIT_WUR;

/* ---------------------------------------------------------- history */

/* The history API's request paths ("/api/v1/usage?..."), values
 * percent-encoded; now resolves --since and durations ago. Caller frees. */
char *cli_usage_path(const cli_args *a, int64_t now);
/* ns: the namespace filter (NULL = none); after: the page's start (NULL =
 * the first); limit: the page size. */
char *cli_history_path(const cli_args *a, const char *ns, const char *after, int limit, int64_t now);
/* The usage answer ({project, by, from, to, items}) as a table (-o wide adds
 * GPU-milli-seconds) with a total line, or CSV. */
int cli_render_usage(const json_t *answer, cli_output o, cubit_buf *out) CUBIT_WUR;
/* Runs of the history (an array, newest first) as a table; -o wide adds the
 * uid, GPU model, CPU and deletion time. now: for what still runs. */
int cli_render_history(const json_t *runs, cli_output o, int64_t now, cubit_buf *out) CUBIT_WUR;

/* ---------------------------------------------------------- forward */

/* Listens on 127.0.0.1:port (0 = any free port): *fd and the *bound port.
 * Returns 0 or CUBIT_EIO with the reason in err. */
int cli_forward_listen(int port, int *fd, int *bound, char *err, size_t errlen) CUBIT_WUR;

struct kube_client;
typedef struct cli_forward_target {
  struct kube_client *client;
  const char *ns, *pod;
  uint16_t port; /* the pod's */
} cli_forward_target;

/* Accepts connections on listen_fd until stop_fd is readable (and stays
 * so), each streamed to the pod by a thread of its own; returns once every
 * stream ended. A line per connection ("Handling connection N for PORT")
 * and per failed stream goes to log. */
int cli_forward_serve(const cli_forward_target *t, int listen_fd, int stop_fd, FILE *log) CUBIT_WUR;

#endif
