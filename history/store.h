/* The run history: an embedded SQLite database of runs, their phase
 * transitions and their pods' running intervals (docs/history.md).
 *
 * One writer (the recorder) and any number of readers (the API) share one
 * hist_store; every call takes the store's mutex, so the handle may be used
 * from several threads. Every write is idempotent: a run is keyed by its uid,
 * a pod interval by the pod's uid, a transition is appended only when the
 * run's last recorded phase differs (and (run, phase, time) is unique), so a
 * recorder that restarts and replays what exists writes nothing twice.
 *
 * Times are epoch seconds (UTC). Resources are integers: cpu in millicores,
 * memory in bytes, GPUs in thousandths of a card (api/gpu's grammar). The
 * schema is portable SQL (no SQLite-only types; ON CONFLICT upserts, which
 * PostgreSQL shares), versioned in the binary and migrated at open. */
#ifndef CUBIT_HISTORY_STORE_H
#define CUBIT_HISTORY_STORE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

typedef struct hist_store hist_store;

/* The schema version this binary migrates a database to. */
#define HIST_SCHEMA_VERSION 4

/* Opens (creating if needed) the database at 'path' (":memory:" for a
 * private in-memory one), turns on WAL and migrates the schema. On success
 * *out is the caller's, to give back with hist_store_close. */
int hist_store_open(const char *path, hist_store **out, char *err, size_t errlen) CUBIT_WUR;
void hist_store_close(hist_store *s);
/* The schema version recorded in the database, or a negative code. */
int hist_store_version(hist_store *s) CUBIT_WUR;

/* Groups the calls that follow, made by this thread, into one transaction:
 * a run's records are written together or not at all, with one commit.
 * Other threads' calls wait until hist_store_end (the store's mutex is
 * held in between). hist_store_end commits when ok, else rolls back, and
 * returns 0 or the commit's error. */
int hist_store_begin(hist_store *s, char *err, size_t errlen) CUBIT_WUR;
int hist_store_end(hist_store *s, int ok, char *err, size_t errlen) CUBIT_WUR;

/* What is known of a run when it is seen. Strings are borrowed; NULL reads as "". */
typedef struct {
  const char *uid, *kind, *ns, *name;
  const char *project, *creator, *cluster, *template_ref;
  const char *phase; /* the current phase, "" when none yet */
  int64_t cpu_milli, memory_bytes, gpu_milli;
  const char *gpu_model;
  int64_t created_at;  /* metadata.creationTimestamp */
  int64_t finished_at; /* 0 while the run is not over */
  /* The run it belongs to: a task's PipelineRun, a trial's Experiment
   * (uid may be "" when only the name is known). */
  const char *parent_uid, *parent_kind, *parent_name;
  const char *task;       /* a task: its name in the pipeline */
  int64_t attempt;        /* a task: its attempt (1, 2, ...), 0 = not a task */
  int64_t trial;          /* a trial: its number (1, 2, ...), 0 = not a trial */
  const char *parameters; /* a trial: its assignment, a JSON object's text */
  int has_value;          /* a trial: its value is known */
  double value;
  /* With labels_known, the object's metadata.labels (a JSON object,
   * borrowed; NULL: none) replace what was recorded, for the label filters;
   * without, the recorded ones stay. The first HIST_MAX_RUN_LABELS are
   * kept; names or values longer than Kubernetes allows are skipped. */
  int labels_known;
  const json_t *labels;
} hist_run;

#define HIST_MAX_RUN_LABELS 64
#define HIST_LABEL_NAME_LEN 317 /* prefix (253) '/' name (63) */
#define HIST_LABEL_VALUE_LEN 63

/* A label selector of the runs list: name=value, name!=value (also true
 * without the label, as in Kubernetes), name (has it), !name (has not). */
typedef enum { HIST_LABEL_EQ, HIST_LABEL_NE, HIST_LABEL_EXISTS, HIST_LABEL_NOT_EXISTS } hist_label_op;
typedef struct {
  hist_label_op op;
  char name[HIST_LABEL_NAME_LEN + 1], value[HIST_LABEL_VALUE_LEN + 1];
} hist_label_sel;
#define HIST_MAX_LABEL_SELS 8

/* Inserts the run or updates what may change (phase, finished_at, the
 * requests, project and creator when they were unknown). Idempotent. */
int hist_store_put_run(hist_store *s, const hist_run *r, char *err, size_t errlen) CUBIT_WUR;
/* Appends the transition to 'phase' at 'at' unless it is the run's last
 * recorded phase already; *appended (may be NULL) says whether a row was
 * written. The run must have been put before. */
int hist_store_add_transition(hist_store *s, const char *run_uid, const char *phase, int64_t at, const char *reason,
                              const char *message, int *appended, char *err, size_t errlen) CUBIT_WUR;
/* Records that the run's object is gone (kept: history outlives it). The
 * first deletion time wins. */
int hist_store_mark_deleted(hist_store *s, const char *run_uid, int64_t at, char *err, size_t errlen) CUBIT_WUR;

/* Records that the object kind ns/name is gone (deleted while the
 * recorder was away or without its finalizer): its live run gets
 * deleted_at and its open intervals end at 'at'. */
int hist_store_mark_gone(hist_store *s, const char *kind, const char *ns, const char *name, int64_t at, char *err,
                         size_t errlen) CUBIT_WUR;
/* Ends the run's still-open intervals at 'at' (the run finished; a pod that
 * vanished before its end was seen must not count for ever). */
int hist_store_close_intervals(hist_store *s, const char *run_uid, int64_t at, char *err, size_t errlen) CUBIT_WUR;
/* The "ns/name" keys of the runs of 'kind' not known to be deleted, so a
 * starting recorder can look each up (*keys and each key are the caller's). */
int hist_store_live_keys(hist_store *s, const char *kind, char ***keys, size_t *n, char *err, size_t errlen) CUBIT_WUR;

/* One pod's running interval: from its first container start to its end
 * (0 while it still runs). The pod holds its GPUs for the whole interval,
 * container restarts included. */
typedef struct {
  const char *pod_uid, *run_uid, *pod_name, *node;
  int64_t started_at, ended_at;
  int64_t cpu_milli, gpu_milli;
  const char *gpu_model;
} hist_interval;

/* Inserts the interval or widens the stored one (earliest start, an end
 * once known; a known end is never reopened). Idempotent. */
int hist_store_put_interval(hist_store *s, const hist_interval *iv, char *err, size_t errlen) CUBIT_WUR;

/* Filters of hist_store_list_runs; NULL/0 fields do not filter. */
typedef struct {
  const char *const *projects; /* runs of any of these projects; NULL = all */
  size_t nprojects;
  const char *kind, *creator, *phase, *ns;
  int64_t from, to; /* created_at in [from, to) when set */
  int limit;        /* 1..1000, default 100 */
  const char *after_uid; /* paging: runs after this one in the order (created_at desc, uid) */
  const char *parent_uid; /* the runs that belong to this one */
  const hist_label_sel *labels; /* all of them hold (AND); at most HIST_MAX_LABEL_SELS */
  size_t nlabels;
} hist_run_filter;

/* A JSON array of runs (newest first) into *out (the caller's). */
int hist_store_list_runs(hist_store *s, const hist_run_filter *f, json_t **out, char *err, size_t errlen) CUBIT_WUR;
/* One run with "labels" (as recorded, {} when none), "transitions", "pods" and "children" (the runs that belong
 * to it, oldest first, at most HIST_MAX_CHILDREN) into *out, or
 * CUBIT_ENOTFOUND. */
#define HIST_MAX_CHILDREN 1000
int hist_store_get_run(hist_store *s, const char *uid, json_t **out, char *err, size_t errlen) CUBIT_WUR;

/* The trials of Experiment ns/name (runs with parent kind Experiment and
 * that name, any uid: an Experiment made again under the same name goes on
 * with its history), by trial number: a JSON array of {name, uid, trial,
 * parameters, value, phase, createdAt, finishedAt, deletedAt} into *out.
 * 'project' is set to the trials' project ("" when none), so the caller can
 * authorise the answer: the caller's buffer of projectlen bytes. */
int hist_store_trials(hist_store *s, const char *ns, const char *name, json_t **out, char *project,
                      size_t projectlen, char *err, size_t errlen) CUBIT_WUR;

/* Retention: deletes at most 'batch' runs that ended (finished or deleted)
 * before 'before' (0: no age limit), oldest first, with their transitions
 * and intervals, in one transaction; then, when max_runs > 0 and more runs
 * than that are kept, at most 'batch' of the oldest ended ones over the
 * count. *deleted says how many went; call again while it equals 'batch'.
 * Freed pages are reused by later writes, so the file stays the size
 * retention holds it to without VACUUM. */
int hist_store_prune(hist_store *s, int64_t before, int64_t max_runs, int batch, int *deleted, char *err,
                     size_t errlen) CUBIT_WUR;
/* The database's size in bytes (pages in use and free, plus the WAL). */
int64_t hist_store_size(hist_store *s);

/* Groups of a usage answer: UTC calendar periods (day "2026-12-01", ISO
 * week "2026-W49" from Monday, month "2026-12"), or a run's member, GPU
 * model or project. */
typedef enum { HIST_BY_DAY, HIST_BY_MEMBER, HIST_BY_GPU_MODEL, HIST_BY_PROJECT, HIST_BY_WEEK, HIST_BY_MONTH } hist_group;

/* One group of a usage answer: milli-card-seconds of GPU and
 * millicore-seconds of CPU, and the runs that contributed. */
typedef struct {
  char key[256];
  int64_t gpu_milli_seconds, cpu_milli_seconds;
  int64_t runs;
} hist_usage_row;

/* Usage of the runs of 'projects' (NULL = all) measured from pod intervals
 * clipped to [from, to); an interval still open counts up to 'now'. Rows
 * are sorted by key; *rows is the caller's (free). The whole UTC days of
 * the window come from the daily roll-ups (rollup.h), the partial first
 * and last day and the runs with a pod still running from the intervals:
 * the same numbers as the intervals alone give, for the runs retention
 * has not pruned (the roll-ups keep those). */
int hist_store_usage(hist_store *s, const char *const *projects, size_t nprojects, hist_group by, int64_t from,
                     int64_t to, int64_t now, hist_usage_row **rows, size_t *nrows, char *err,
                     size_t errlen) CUBIT_WUR;

/* The seconds of [start, end) inside [from, to); end 0 means 'now'. An end
 * before the start (clock skew between nodes) counts nothing. */
int64_t hist_clip_seconds(int64_t start, int64_t end, int64_t from, int64_t to, int64_t now);

/* Prometheus counters of usage, in 'reg' (the manager's /metrics):
 *   cubit_project_gpu_seconds_total{project,gpu_model}
 *   cubit_project_cpu_seconds_total{project}
 *   cubit_project_runs_total{project,kind,phase}  runs that entered the phase
 * brought up to the database's totals (raised, never lowered). The totals
 * count a run's pods once none of them runs (a running pod's time is not
 * final, and a counter must never go back: the roll-ups' rule) and runs
 * once their project is known; they
 * outlive retention like the roll-ups, so a recorder that restarts starts
 * its counters where the last one left them, and a replay adds nothing. */
struct metrics_registry;
int hist_store_sync_metrics(hist_store *s, struct metrics_registry *reg, char *err, size_t errlen) CUBIT_WUR;

/* Internal, for the tests: usage computed from the intervals alone, as
 * before the roll-ups (what hist_store_usage must equal). */
int hist__store_usage_raw(hist_store *s, const char *const *projects, size_t nprojects, hist_group by, int64_t from,
                          int64_t to, int64_t now, hist_usage_row **rows, size_t *nrows, char *err,
                          size_t errlen) CUBIT_WUR;

/* Internal, for the migration tests: migrates to 'version' only. */
int hist__store_open_at(const char *path, int version, hist_store **out, char *err, size_t errlen) CUBIT_WUR;

#endif
