/* The run history in SQLite (store.h). */
#include "history/store.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "history/rollup.h"
#include "util/alloc.h"
#include "util/json.h"
#include "util/metrics.h"
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

/* Prepared statements of the fixed SQL texts, kept for the store's life
 * (the recorder writes the same few statements for every run). */
#define HIST_STMT_CACHE 32

struct hist_store {
  sqlite3 *db;
  pthread_mutex_t mu;
  struct {
    const char *sql; /* a static text: the key is its address */
    sqlite3_stmt *st;
  } stmts[HIST_STMT_CACHE];
};

/* Migration i takes the schema from version i to i+1. Portable SQL only:
 * VARCHAR/BIGINT/INTEGER, no AUTOINCREMENT, no WITHOUT ROWID, so the same
 * text creates a PostgreSQL schema. Never edit a released step; append. */
static const char *const migrations[] = {
    /* 0 -> 1: runs, transitions, pod intervals */
    "CREATE TABLE runs ("
    " uid VARCHAR(64) NOT NULL PRIMARY KEY,"
    " kind VARCHAR(64) NOT NULL,"
    " namespace VARCHAR(253) NOT NULL,"
    " name VARCHAR(253) NOT NULL,"
    " project VARCHAR(253) NOT NULL DEFAULT '',"
    " creator VARCHAR(512) NOT NULL DEFAULT '',"
    " cluster VARCHAR(253) NOT NULL DEFAULT 'local',"
    " template VARCHAR(253) NOT NULL DEFAULT '',"
    " phase VARCHAR(64) NOT NULL DEFAULT '',"
    " cpu_milli BIGINT NOT NULL DEFAULT 0,"
    " memory_bytes BIGINT NOT NULL DEFAULT 0,"
    " gpu_milli BIGINT NOT NULL DEFAULT 0,"
    " gpu_model VARCHAR(64) NOT NULL DEFAULT '',"
    " created_at BIGINT NOT NULL,"
    " finished_at BIGINT,"
    " deleted_at BIGINT);"
    "CREATE INDEX runs_project_created ON runs (project, created_at);"
    "CREATE INDEX runs_created ON runs (created_at);"
    "CREATE TABLE transitions ("
    " run_uid VARCHAR(64) NOT NULL REFERENCES runs (uid),"
    " seq INTEGER NOT NULL,"
    " phase VARCHAR(64) NOT NULL,"
    " at BIGINT NOT NULL,"
    " reason VARCHAR(256) NOT NULL DEFAULT '',"
    " message VARCHAR(4096) NOT NULL DEFAULT '',"
    " PRIMARY KEY (run_uid, seq),"
    " UNIQUE (run_uid, phase, at));"
    "CREATE TABLE pod_intervals ("
    " pod_uid VARCHAR(64) NOT NULL PRIMARY KEY,"
    " run_uid VARCHAR(64) NOT NULL REFERENCES runs (uid),"
    " pod_name VARCHAR(253) NOT NULL DEFAULT '',"
    " node VARCHAR(253) NOT NULL DEFAULT '',"
    " started_at BIGINT NOT NULL,"
    " ended_at BIGINT,"
    " cpu_milli BIGINT NOT NULL DEFAULT 0,"
    " gpu_milli BIGINT NOT NULL DEFAULT 0,"
    " gpu_model VARCHAR(64) NOT NULL DEFAULT '');"
    "CREATE INDEX pod_intervals_run ON pod_intervals (run_uid);"
    "CREATE INDEX pod_intervals_started ON pod_intervals (started_at);",
    /* 1 -> 2: the member filter of the runs list and usage by member */
    "CREATE INDEX runs_creator_created ON runs (creator, created_at);",
    /* 2 -> 3: runs that belong to another (a PipelineRun's tasks, an
     * Experiment's trials); retention; usage reads a project's runs that
     * ended inside the window, not all it ever had */
    "ALTER TABLE runs ADD COLUMN parent_uid VARCHAR(64) NOT NULL DEFAULT '';"
    "ALTER TABLE runs ADD COLUMN parent_kind VARCHAR(64) NOT NULL DEFAULT '';"
    "ALTER TABLE runs ADD COLUMN parent_name VARCHAR(253) NOT NULL DEFAULT '';"
    "ALTER TABLE runs ADD COLUMN task VARCHAR(253) NOT NULL DEFAULT '';"
    "ALTER TABLE runs ADD COLUMN attempt INTEGER;"
    "ALTER TABLE runs ADD COLUMN trial INTEGER;"
    "ALTER TABLE runs ADD COLUMN parameters VARCHAR(8192) NOT NULL DEFAULT '';"
    "ALTER TABLE runs ADD COLUMN trial_value DOUBLE PRECISION;"
    "CREATE INDEX runs_parent ON runs (parent_uid);"
    "CREATE INDEX runs_parent_name ON runs (namespace, parent_kind, parent_name);"
    /* the end of a run, the largest BIGINT while it is not over */
    "CREATE INDEX runs_project_ended ON runs (project, (COALESCE(finished_at, deleted_at, 9223372036854775807)),"
    " created_at, uid, creator);"
    /* usage reads a run's intervals from the index alone */
    "CREATE INDEX pod_intervals_usage ON pod_intervals (run_uid, started_at, ended_at, gpu_milli, cpu_milli, gpu_model);"
    "DROP INDEX pod_intervals_run;",
    /* 3 -> 4: daily roll-ups of usage (rollup.h), built from the intervals
     * by the migration (rollup_rebuild); the runs active per day, so the
     * query finds those to read raw at a window's partial first and last
     * day; the runs with a pod still running; the uids retention pruned
     * while their object existed, never recorded again */
    "CREATE TABLE usage_days ("
    " day BIGINT NOT NULL,"
    " project VARCHAR(253) NOT NULL,"
    " namespace VARCHAR(253) NOT NULL,"
    " creator VARCHAR(512) NOT NULL,"
    " gpu_model VARCHAR(64) NOT NULL,"
    " prev_any BIGINT NOT NULL,"
    " prev_model BIGINT NOT NULL,"
    " gpu_milli_seconds BIGINT NOT NULL DEFAULT 0,"
    " cpu_milli_seconds BIGINT NOT NULL DEFAULT 0,"
    " runs_any BIGINT NOT NULL DEFAULT 0,"
    " runs_model BIGINT NOT NULL DEFAULT 0,"
    " PRIMARY KEY (project, day, namespace, creator, gpu_model, prev_any, prev_model));"
    "CREATE INDEX usage_days_day ON usage_days (day);"
    "CREATE TABLE usage_run_days ("
    " day BIGINT NOT NULL,"
    " project VARCHAR(253) NOT NULL,"
    " run_uid VARCHAR(64) NOT NULL,"
    " PRIMARY KEY (day, project, run_uid));"
    "CREATE TABLE pruned_runs (uid VARCHAR(64) NOT NULL PRIMARY KEY);"
    /* ended_at first: the planner takes this small index over a scan of pod_intervals_usage */
    "CREATE INDEX pod_intervals_open ON pod_intervals (ended_at, run_uid) WHERE ended_at IS NULL;"
    /* the runs' labels, for the label filters of the runs list */
    "CREATE TABLE run_labels ("
    " run_uid VARCHAR(64) NOT NULL REFERENCES runs (uid),"
    " name VARCHAR(317) NOT NULL,"
    " value VARCHAR(63) NOT NULL,"
    " PRIMARY KEY (run_uid, name));"
    "CREATE INDEX run_labels_name_value ON run_labels (name, value, run_uid);"
    /* the Prometheus counters' totals: GPU and CPU time per project and
     * model (the cells' sums), and the runs that entered each phase; like
     * the cells they only grow and outlive retention */
    "CREATE TABLE usage_totals ("
    " project VARCHAR(253) NOT NULL,"
    " gpu_model VARCHAR(64) NOT NULL,"
    " gpu_milli_seconds BIGINT NOT NULL DEFAULT 0,"
    " cpu_milli_seconds BIGINT NOT NULL DEFAULT 0,"
    " PRIMARY KEY (project, gpu_model));"
    "CREATE TABLE phase_counts ("
    " project VARCHAR(253) NOT NULL,"
    " kind VARCHAR(64) NOT NULL,"
    " phase VARCHAR(64) NOT NULL,"
    " runs BIGINT NOT NULL DEFAULT 0,"
    " PRIMARY KEY (project, kind, phase));"
    "INSERT INTO phase_counts (project, kind, phase, runs)"
    " SELECT r.project, r.kind, t.phase, COUNT(DISTINCT t.run_uid) FROM transitions t JOIN runs r ON r.uid = t.run_uid"
    " WHERE r.project <> '' GROUP BY r.project, r.kind, t.phase;",
};

static int rollup_rebuild(hist_store *s, char *err, size_t errlen);

static int db_error(hist_store *s, char *err, size_t errlen, const char *what) {
  return cubit_errorf(err, errlen, CUBIT_EIO, "history: %s: %s", what, sqlite3_errmsg(s->db));
}

static int exec_sql(hist_store *s, const char *sql, char *err, size_t errlen) {
  char *msg = NULL;
  if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) == SQLITE_OK) return 0;
  int rc = cubit_errorf(err, errlen, CUBIT_EIO, "history: %s", msg ? msg : sqlite3_errmsg(s->db));
  sqlite3_free(msg);
  return rc;
}

static int read_version(hist_store *s) {
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(s->db, "SELECT version FROM schema_version", -1, &st, NULL) != SQLITE_OK) return CUBIT_EIO;
  int v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
  sqlite3_finalize(st);
  return v;
}

/* Applies the missing steps up to 'target', each in its own transaction
 * together with the version it reaches, so a crash leaves a whole version. */
static int migrate(hist_store *s, int target, char *err, size_t errlen) {
  int rc = exec_sql(s, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)", err, errlen);
  if (rc) return rc;
  int v = read_version(s);
  if (v < 0) return db_error(s, err, errlen, "reading the schema version");
  if (v > HIST_SCHEMA_VERSION)
    return cubit_errorf(err, errlen, CUBIT_ENOTSUP,
                        "history: the database has schema version %d, newer than this binary's %d", v,
                        HIST_SCHEMA_VERSION);
  for (; v < target; v++) {
    char *sql = xasprintf("BEGIN; %s DELETE FROM schema_version; INSERT INTO schema_version (version) VALUES (%d);",
                          migrations[v], v + 1);
    rc = exec_sql(s, sql, err, errlen);
    free(sql);
    /* the roll-ups of what the database holds, in the step's transaction */
    if (rc == 0 && v + 1 == 4) rc = rollup_rebuild(s, err, errlen);
    if (rc == 0) rc = exec_sql(s, "COMMIT", err, errlen);
    if (rc) {
      if (sqlite3_get_autocommit(s->db) == 0) (void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
      return rc;
    }
  }
  return 0;
}

int hist__store_open_at(const char *path, int version, hist_store **out, char *err, size_t errlen) {
  _Static_assert(sizeof migrations / sizeof migrations[0] == HIST_SCHEMA_VERSION, "one migration per version");
  *out = NULL;
  if (version < 0 || version > HIST_SCHEMA_VERSION) return cubit_errorf(err, errlen, CUBIT_EINVAL, "history: no schema version %d", version);
  hist_store *s = xcalloc(1, sizeof *s);
  int rc;
  if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
    rc = cubit_errorf(err, errlen, CUBIT_EIO, "history: opening %s: %s", path,
                      s->db ? sqlite3_errmsg(s->db) : "out of memory");
    goto fail_open;
  }
  sqlite3_busy_timeout(s->db, 5000);
  /* WAL: the API's reads never wait for the recorder's write. */
  /* 16 MiB of page cache: a usage query over a project's months stays in
   * memory when asked again (SQLite's default is 2 MiB). */
  rc = exec_sql(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA cache_size=-16384;",
                err, errlen);
  if (rc) goto fail_open;
  rc = migrate(s, version, err, errlen);
  if (rc) goto fail_open;
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  /* recursive: a thread inside hist_store_begin/end calls the store again */
  pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
  int mrc = pthread_mutex_init(&s->mu, &attr);
  pthread_mutexattr_destroy(&attr);
  if (mrc != 0) {
    rc = cubit_errorf(err, errlen, CUBIT_ENOMEM, "history: mutex");
    goto fail_open;
  }
  *out = s;
  return 0;
fail_open:
  sqlite3_close(s->db);
  free(s);
  return rc;
}

int hist_store_open(const char *path, hist_store **out, char *err, size_t errlen) {
  return hist__store_open_at(path, HIST_SCHEMA_VERSION, out, err, errlen);
}

void hist_store_close(hist_store *s) {
  if (s == NULL) return;
  for (size_t i = 0; i < HIST_STMT_CACHE; i++) sqlite3_finalize(s->stmts[i].st);
  sqlite3_close(s->db);
  pthread_mutex_destroy(&s->mu);
  free(s);
}

int hist_store_begin(hist_store *s, char *err, size_t errlen) {
  pthread_mutex_lock(&s->mu);
  int rc = exec_sql(s, "BEGIN IMMEDIATE", err, errlen);
  if (rc) pthread_mutex_unlock(&s->mu);
  return rc;
}

int hist_store_end(hist_store *s, int ok, char *err, size_t errlen) {
  int rc = ok ? exec_sql(s, "COMMIT", err, errlen) : 0;
  if (!ok || rc) (void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
  pthread_mutex_unlock(&s->mu);
  return rc;
}

int hist_store_version(hist_store *s) {
  pthread_mutex_lock(&s->mu);
  int v = read_version(s);
  pthread_mutex_unlock(&s->mu);
  return v;
}

static const char *nz(const char *s) { return s ? s : ""; }

static void bind_text(sqlite3_stmt *st, int i, const char *v) { sqlite3_bind_text(st, i, nz(v), -1, SQLITE_TRANSIENT); }
static void bind_time(sqlite3_stmt *st, int i, int64_t t) {
  if (t > 0) sqlite3_bind_int64(st, i, t);
  else sqlite3_bind_null(st, i);
}

/* The prepared statement of the static text 'sql' (the store's, reset and
 * unbound after each use by done()). Called under s->mu. */
static int prepared(hist_store *s, const char *sql, sqlite3_stmt **stp, char *err, size_t errlen, const char *what) {
  size_t i;
  for (i = 0; i < HIST_STMT_CACHE && s->stmts[i].sql; i++)
    if (s->stmts[i].sql == sql) {
      *stp = s->stmts[i].st;
      return 0;
    }
  if (sqlite3_prepare_v3(s->db, sql, -1, i < HIST_STMT_CACHE ? SQLITE_PREPARE_PERSISTENT : 0, stp, NULL) != SQLITE_OK)
    return db_error(s, err, errlen, what);
  if (i < HIST_STMT_CACHE) {
    s->stmts[i].sql = sql;
    s->stmts[i].st = *stp;
  }
  return 0;
}

/* Gives back a statement of prepared(). */
static void done(hist_store *s, sqlite3_stmt *st) {
  for (size_t i = 0; i < HIST_STMT_CACHE && s->stmts[i].sql; i++)
    if (s->stmts[i].st == st) {
      sqlite3_reset(st);
      sqlite3_clear_bindings(st);
      return;
    }
  sqlite3_finalize(st);
}

/* Prepares a write of a static text; finish_write steps it once to SQLITE_DONE. */
static int run_write(hist_store *s, const char *sql, sqlite3_stmt **stp, char *err, size_t errlen, const char *what) {
  return prepared(s, sql, stp, err, errlen, what);
}

static int finish_write(hist_store *s, sqlite3_stmt *st, char *err, size_t errlen, const char *what) {
  int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_error(s, err, errlen, what);
  done(s, st);
  return rc;
}

/* ---- roll-ups (rollup.h) ------------------------------------------------------------- */

/* What one run adds to the roll-ups: its cells, under its project,
 * namespace and creator. */
typedef struct {
  char project[256], ns[256], creator[520];
  hist_cell *cells;
  size_t n;
} run_contrib;

static void contrib_free(run_contrib *c) {
  free(c->cells);
  c->cells = NULL;
  c->n = 0;
}

static void copy_col(char *out, size_t len, sqlite3_stmt *st, int col) {
  const char *v = (const char *)sqlite3_column_text(st, col);
  snprintf(out, len, "%s", v ? v : "");
}

/* Appends the row's interval (columns col..col+4: started_at, ended_at,
 * gpu_milli, cpu_milli, gpu_model) to *spans unless it is still open;
 * returns 1 when it is open. */
static int span_from_row(sqlite3_stmt *st, int col, hist_span **spans, size_t *n, size_t *cap) {
  if (sqlite3_column_type(st, col + 1) == SQLITE_NULL) return 1;
  if (*n == *cap) {
    *cap = *cap ? 2 * *cap : 4;
    *spans = xrealloc(*spans, *cap * sizeof **spans);
  }
  hist_span *sp = &(*spans)[(*n)++];
  memset(sp, 0, sizeof *sp);
  sp->start = sqlite3_column_int64(st, col);
  sp->end = sqlite3_column_int64(st, col + 1);
  sp->gpu_milli = sqlite3_column_int64(st, col + 2);
  sp->cpu_milli = sqlite3_column_int64(st, col + 3);
  copy_col(sp->model, sizeof sp->model, st, col + 4);
  return 0;
}

/* The run's contribution as the database holds it now (none when the run
 * is unknown or a pod of it still runs). Called under s->mu. */
static int contrib_read(hist_store *s, const char *uid, run_contrib *c, char *err, size_t errlen) {
  memset(c, 0, sizeof *c);
  static const char run_sql[] = "SELECT project, namespace, creator FROM runs WHERE uid = ?1";
  static const char iv_sql[] =
      "SELECT started_at, ended_at, gpu_milli, cpu_milli, gpu_model FROM pod_intervals WHERE run_uid = ?1";
  sqlite3_stmt *st = NULL;
  int rc = prepared(s, run_sql, &st, err, errlen, "reading a run's usage");
  if (rc) return rc;
  bind_text(st, 1, uid);
  int step = sqlite3_step(st), exists = step == SQLITE_ROW;
  if (exists) {
    copy_col(c->project, sizeof c->project, st, 0);
    copy_col(c->ns, sizeof c->ns, st, 1);
    copy_col(c->creator, sizeof c->creator, st, 2);
  }
  done(s, st);
  if (!exists) return step == SQLITE_DONE ? 0 : db_error(s, err, errlen, "reading a run's usage");
  rc = prepared(s, iv_sql, &st, err, errlen, "reading a run's usage");
  if (rc) return rc;
  bind_text(st, 1, uid);
  hist_span *spans = NULL;
  size_t n = 0, cap = 0;
  int open = 0;
  while ((step = sqlite3_step(st)) == SQLITE_ROW) open |= span_from_row(st, 0, &spans, &n, &cap);
  done(s, st);
  if (step == SQLITE_DONE && !open) hist_rollup_cells(spans, n, &c->cells, &c->n);
  free(spans);
  return step == SQLITE_DONE ? 0 : db_error(s, err, errlen, "reading a run's usage");
}

static int contrib_same(const run_contrib *a, const run_contrib *b) {
  if (a->n == 0 && b->n == 0) return 1;
  return a->n == b->n && strcmp(a->project, b->project) == 0 && strcmp(a->ns, b->ns) == 0 &&
         strcmp(a->creator, b->creator) == 0 && memcmp(a->cells, b->cells, a->n * sizeof *a->cells) == 0;
}

/* Adds (sign 1) or takes away (-1) the run's active days and, with
 * cells_too, its cells. Called under s->mu, inside a transaction. */
static int contrib_apply(hist_store *s, const char *uid, const run_contrib *c, int sign, int cells_too, char *err,
                         size_t errlen) {
  static const char cell_sql[] =
      "INSERT INTO usage_days (day, project, namespace, creator, gpu_model, prev_any, prev_model,"
      " gpu_milli_seconds, cpu_milli_seconds, runs_any, runs_model) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
      " ON CONFLICT (project, day, namespace, creator, gpu_model, prev_any, prev_model) DO UPDATE SET"
      " gpu_milli_seconds = usage_days.gpu_milli_seconds + excluded.gpu_milli_seconds,"
      " cpu_milli_seconds = usage_days.cpu_milli_seconds + excluded.cpu_milli_seconds,"
      " runs_any = usage_days.runs_any + excluded.runs_any, runs_model = usage_days.runs_model + excluded.runs_model";
  static const char total_sql[] =
      "INSERT INTO usage_totals (project, gpu_model, gpu_milli_seconds, cpu_milli_seconds) VALUES (?1, ?2, ?3, ?4)"
      " ON CONFLICT (project, gpu_model) DO UPDATE SET"
      " gpu_milli_seconds = usage_totals.gpu_milli_seconds + excluded.gpu_milli_seconds,"
      " cpu_milli_seconds = usage_totals.cpu_milli_seconds + excluded.cpu_milli_seconds";
  static const char add_day_sql[] =
      "INSERT INTO usage_run_days (day, project, run_uid) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING";
  static const char del_day_sql[] = "DELETE FROM usage_run_days WHERE day = ?1 AND project = ?2 AND run_uid = ?3";
  for (size_t k = 0; k < c->n; k++) {
    const hist_cell *x = &c->cells[k];
    sqlite3_stmt *st = NULL;
    int rc;
    if (cells_too) {
      if ((rc = run_write(s, cell_sql, &st, err, errlen, "rolling up usage"))) return rc;
      sqlite3_bind_int64(st, 1, x->day);
      bind_text(st, 2, c->project);
      bind_text(st, 3, c->ns);
      bind_text(st, 4, c->creator);
      bind_text(st, 5, x->model);
      sqlite3_bind_int64(st, 6, x->prev_any);
      sqlite3_bind_int64(st, 7, x->prev_model);
      sqlite3_bind_int64(st, 8, sign * x->gpu_milli_seconds);
      sqlite3_bind_int64(st, 9, sign * x->cpu_milli_seconds);
      sqlite3_bind_int64(st, 10, sign * x->runs_any);
      sqlite3_bind_int64(st, 11, sign * x->runs_model);
      if ((rc = finish_write(s, st, err, errlen, "rolling up usage"))) return rc;
      if ((rc = run_write(s, total_sql, &st, err, errlen, "rolling up usage"))) return rc;
      bind_text(st, 1, c->project);
      bind_text(st, 2, x->model);
      sqlite3_bind_int64(st, 3, sign * x->gpu_milli_seconds);
      sqlite3_bind_int64(st, 4, sign * x->cpu_milli_seconds);
      if ((rc = finish_write(s, st, err, errlen, "rolling up usage"))) return rc;
    }
    if (k > 0 && c->cells[k - 1].day == x->day) continue; /* one row per day */
    if ((rc = run_write(s, sign > 0 ? add_day_sql : del_day_sql, &st, err, errlen, "rolling up usage"))) return rc;
    sqlite3_bind_int64(st, 1, x->day);
    bind_text(st, 2, c->project);
    bind_text(st, 3, uid);
    if ((rc = finish_write(s, st, err, errlen, "rolling up usage"))) return rc;
  }
  return 0;
}

/* Around a write that may change run uid's contribution: rollup_enter
 * opens a savepoint and reads the contribution; rollup_leave (given the
 * write's rc) reads it again, applies the difference and releases the
 * savepoint, or rolls it back when anything failed. So the cells equal
 * the sum of the contributions after every write, and a replay, which
 * changes no contribution, writes no cell. Called under s->mu. */
static int rollup_enter(hist_store *s, const char *uid, run_contrib *before, char *err, size_t errlen) {
  memset(before, 0, sizeof *before);
  int rc = exec_sql(s, "SAVEPOINT rollup", err, errlen);
  if (rc) return rc;
  rc = contrib_read(s, uid, before, err, errlen);
  if (rc) (void)sqlite3_exec(s->db, "ROLLBACK TO rollup; RELEASE rollup", NULL, NULL, NULL);
  return rc;
}

static int rollup_leave(hist_store *s, const char *uid, run_contrib *before, int rc, char *err, size_t errlen) {
  run_contrib after = {0};
  if (rc == 0) rc = contrib_read(s, uid, &after, err, errlen);
  if (rc == 0 && !contrib_same(before, &after)) {
    rc = contrib_apply(s, uid, before, -1, 1, err, errlen);
    if (rc == 0) rc = contrib_apply(s, uid, &after, 1, 1, err, errlen);
  }
  contrib_free(before);
  contrib_free(&after);
  if (rc == 0) rc = exec_sql(s, "RELEASE rollup", err, errlen);
  if (rc) (void)sqlite3_exec(s->db, "ROLLBACK TO rollup; RELEASE rollup", NULL, NULL, NULL);
  return rc;
}

/* The roll-ups of every run the database holds (the migration to 4). */
static int rollup_rebuild(hist_store *s, char *err, size_t errlen) {
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(s->db, "SELECT uid FROM runs", -1, &st, NULL) != SQLITE_OK)
    return db_error(s, err, errlen, "building the roll-ups");
  int rc = 0, step;
  while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
    char uid[72];
    copy_col(uid, sizeof uid, st, 0);
    run_contrib c;
    rc = contrib_read(s, uid, &c, err, errlen);
    if (rc == 0) rc = contrib_apply(s, uid, &c, 1, 1, err, errlen);
    contrib_free(&c);
  }
  if (rc == 0 && step != SQLITE_DONE) rc = db_error(s, err, errlen, "building the roll-ups");
  sqlite3_finalize(st);
  return rc;
}

/* Retention pruned this run while its object existed: it is not recorded
 * again (its usage stays in the roll-ups). Called under s->mu. */
static int is_pruned(hist_store *s, const char *uid) {
  static const char sql[] = "SELECT 1 FROM pruned_runs WHERE uid = ?1";
  sqlite3_stmt *st = NULL;
  if (prepared(s, sql, &st, NULL, 0, "") != 0) return 0;
  bind_text(st, 1, uid);
  int found = sqlite3_step(st) == SQLITE_ROW;
  done(s, st);
  return found;
}

/* Counts the run in phase_counts for 'phase' (NULL: every phase it has
 * entered) unless it had entered it before, under its project (none: not
 * counted until the project is known). Called under s->mu, after the
 * transition is written. */
static int count_phases(hist_store *s, const char *uid, const char *phase, char *err, size_t errlen) {
  static const char one_sql[] =
      "INSERT INTO phase_counts (project, kind, phase, runs)"
      " SELECT project, kind, ?2, 1 FROM runs WHERE uid = ?1 AND project <> ''"
      " AND (SELECT COUNT(*) FROM transitions WHERE run_uid = ?1 AND phase = ?2) = 1"
      " ON CONFLICT (project, kind, phase) DO UPDATE SET runs = phase_counts.runs + 1";
  static const char all_sql[] =
      "INSERT INTO phase_counts (project, kind, phase, runs)"
      " SELECT DISTINCT r.project, r.kind, t.phase, 1 FROM runs r JOIN transitions t ON t.run_uid = r.uid"
      " WHERE r.uid = ?1 AND r.project <> '' AND ?2 IS NULL"
      " ON CONFLICT (project, kind, phase) DO UPDATE SET runs = phase_counts.runs + 1";
  sqlite3_stmt *st = NULL;
  int rc = run_write(s, phase ? one_sql : all_sql, &st, err, errlen, "counting phases");
  if (rc) return rc;
  bind_text(st, 1, uid);
  if (phase) bind_text(st, 2, phase);
  else sqlite3_bind_null(st, 2);
  return finish_write(s, st, err, errlen, "counting phases");
}

/* Replaces the run's recorded labels with 'labels' (NULL: none; bounded
 * as hist_run says). Unchanged labels write nothing: a replay costs a
 * read. Called under s->mu. */
static int put_labels(hist_store *s, const char *uid, const json_t *labels, char *err, size_t errlen) {
  static const char read_sql[] = "SELECT name, value FROM run_labels WHERE run_uid = ?1";
  static const char del_sql[] = "DELETE FROM run_labels WHERE run_uid = ?1";
  static const char add_sql[] = "INSERT INTO run_labels (run_uid, name, value) VALUES (?1, ?2, ?3)";
  /* what to keep: the first HIST_MAX_RUN_LABELS valid ones (jansson iterates in insertion order) */
  const char *names[HIST_MAX_RUN_LABELS], *values[HIST_MAX_RUN_LABELS];
  size_t n = 0;
  const char *name;
  json_t *v;
  json_object_foreach((json_t *)labels, name, v) {
    const char *value = json_string_value(v);
    if (n == HIST_MAX_RUN_LABELS || value == NULL || name[0] == '\0' || strlen(name) > HIST_LABEL_NAME_LEN ||
        strlen(value) > HIST_LABEL_VALUE_LEN)
      continue;
    names[n] = name;
    values[n++] = value;
  }
  sqlite3_stmt *st = NULL;
  int rc = prepared(s, read_sql, &st, err, errlen, "recording labels");
  if (rc) return rc;
  bind_text(st, 1, uid);
  size_t same = 0, stored = 0;
  int step;
  while ((step = sqlite3_step(st)) == SQLITE_ROW) {
    stored++;
    const char *sn = (const char *)sqlite3_column_text(st, 0), *sv = (const char *)sqlite3_column_text(st, 1);
    for (size_t i = 0; i < n; i++)
      if (strcmp(names[i], sn) == 0 && strcmp(values[i], sv) == 0) same++;
  }
  done(s, st);
  if (step != SQLITE_DONE) return db_error(s, err, errlen, "recording labels");
  if (same == n && stored == n) return 0;
  if ((rc = run_write(s, del_sql, &st, err, errlen, "recording labels"))) return rc;
  bind_text(st, 1, uid);
  if ((rc = finish_write(s, st, err, errlen, "recording labels"))) return rc;
  for (size_t i = 0; i < n; i++) {
    if ((rc = run_write(s, add_sql, &st, err, errlen, "recording labels"))) return rc;
    bind_text(st, 1, uid);
    bind_text(st, 2, names[i]);
    bind_text(st, 3, values[i]);
    if ((rc = finish_write(s, st, err, errlen, "recording labels"))) return rc;
  }
  return 0;
}

/* 1 when putting r fills the recorded run's empty project or creator
 * (what hist_store_put_run may change of a contribution), 0 when not, < 0
 * on an error. Called under s->mu. */
static int project_learned(hist_store *s, const hist_run *r) {
  static const char sql[] = "SELECT project, creator FROM runs WHERE uid = ?1";
  sqlite3_stmt *st = NULL;
  if (prepared(s, sql, &st, NULL, 0, "") != 0) return -1;
  bind_text(st, 1, r->uid);
  int step = sqlite3_step(st), learned = 0;
  if (step == SQLITE_ROW) {
    const char *project = (const char *)sqlite3_column_text(st, 0), *creator = (const char *)sqlite3_column_text(st, 1);
    learned = ((project == NULL || project[0] == '\0') && r->project && r->project[0]) ||
              ((creator == NULL || creator[0] == '\0') && r->creator && r->creator[0]);
  }
  done(s, st);
  return step == SQLITE_ROW || step == SQLITE_DONE ? learned : -1;
}

int hist_store_put_run(hist_store *s, const hist_run *r, char *err, size_t errlen) {
  if (r->uid == NULL || r->uid[0] == '\0' || r->kind == NULL || r->name == NULL)
    return cubit_errorf(err, errlen, CUBIT_EINVAL, "history: a run needs uid, kind and name");
  static const char sql[] =
      "INSERT INTO runs (uid, kind, namespace, name, project, creator, cluster, template, phase,"
      " cpu_milli, memory_bytes, gpu_milli, gpu_model, created_at, finished_at,"
      " parent_uid, parent_kind, parent_name, task, attempt, trial, parameters, trial_value)"
      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22,"
      " ?23)"
      " ON CONFLICT (uid) DO UPDATE SET"
      " phase = CASE WHEN excluded.phase <> '' THEN excluded.phase ELSE runs.phase END,"
      " project = CASE WHEN runs.project = '' THEN excluded.project ELSE runs.project END,"
      " creator = CASE WHEN runs.creator = '' THEN excluded.creator ELSE runs.creator END,"
      " template = CASE WHEN runs.template = '' THEN excluded.template ELSE runs.template END,"
      /* requests and model come from pods that may be gone later: a zero keeps what was seen */
      " cpu_milli = CASE WHEN excluded.cpu_milli > 0 THEN excluded.cpu_milli ELSE runs.cpu_milli END,"
      " memory_bytes = CASE WHEN excluded.memory_bytes > 0 THEN excluded.memory_bytes ELSE runs.memory_bytes END,"
      " gpu_milli = CASE WHEN excluded.gpu_milli > 0 THEN excluded.gpu_milli ELSE runs.gpu_milli END,"
      " gpu_model = CASE WHEN excluded.gpu_model <> '' THEN excluded.gpu_model ELSE runs.gpu_model END,"
      " finished_at = COALESCE(runs.finished_at, excluded.finished_at),"
      /* what a run belongs to never changes once known */
      " parent_uid = CASE WHEN runs.parent_uid = '' THEN excluded.parent_uid ELSE runs.parent_uid END,"
      " parent_kind = CASE WHEN runs.parent_kind = '' THEN excluded.parent_kind ELSE runs.parent_kind END,"
      " parent_name = CASE WHEN runs.parent_name = '' THEN excluded.parent_name ELSE runs.parent_name END,"
      " task = CASE WHEN runs.task = '' THEN excluded.task ELSE runs.task END,"
      " attempt = COALESCE(runs.attempt, excluded.attempt),"
      " trial = COALESCE(runs.trial, excluded.trial),"
      " parameters = CASE WHEN runs.parameters = '' THEN excluded.parameters ELSE runs.parameters END,"
      " trial_value = COALESCE(excluded.trial_value, runs.trial_value)";
  pthread_mutex_lock(&s->mu);
  if (is_pruned(s, r->uid)) {
    pthread_mutex_unlock(&s->mu);
    return 0;
  }
  /* Project and creator may become known: the run's cells move. Only
   * then (a run not recorded yet has no interval, hence no cells). */
  run_contrib before = {0};
  int moves = project_learned(s, r), rc = moves < 0 ? db_error(s, err, errlen, "recording a run") : 0;
  if (rc == 0 && moves) rc = rollup_enter(s, r->uid, &before, err, errlen);
  if (rc) {
    pthread_mutex_unlock(&s->mu);
    return rc;
  }
  sqlite3_stmt *st = NULL;
  rc = run_write(s, sql, &st, err, errlen, "recording a run");
  if (rc == 0) {
    bind_text(st, 1, r->uid);
    bind_text(st, 2, r->kind);
    bind_text(st, 3, r->ns);
    bind_text(st, 4, r->name);
    bind_text(st, 5, r->project);
    bind_text(st, 6, r->creator);
    bind_text(st, 7, r->cluster && r->cluster[0] ? r->cluster : "local");
    bind_text(st, 8, r->template_ref);
    bind_text(st, 9, r->phase);
    sqlite3_bind_int64(st, 10, r->cpu_milli);
    sqlite3_bind_int64(st, 11, r->memory_bytes);
    sqlite3_bind_int64(st, 12, r->gpu_milli);
    bind_text(st, 13, r->gpu_model);
    sqlite3_bind_int64(st, 14, r->created_at);
    bind_time(st, 15, r->finished_at);
    bind_text(st, 16, r->parent_uid);
    bind_text(st, 17, r->parent_kind);
    bind_text(st, 18, r->parent_name);
    bind_text(st, 19, r->task);
    bind_time(st, 20, r->attempt);
    bind_time(st, 21, r->trial);
    bind_text(st, 22, r->parameters);
    if (r->has_value) sqlite3_bind_double(st, 23, r->value);
    else sqlite3_bind_null(st, 23);
    rc = finish_write(s, st, err, errlen, "recording a run");
  }
  if (rc == 0 && r->labels_known) rc = put_labels(s, r->uid, r->labels, err, errlen);
  if (rc == 0 && moves && strcmp(before.project, "") == 0 && r->project && r->project[0])
    rc = count_phases(s, r->uid, NULL, err, errlen);
  if (moves) rc = rollup_leave(s, r->uid, &before, rc, err, errlen);
  pthread_mutex_unlock(&s->mu);
  return rc;
}

int hist_store_add_transition(hist_store *s, const char *run_uid, const char *phase, int64_t at, const char *reason,
                              const char *message, int *appended, char *err, size_t errlen) {
  if (appended) *appended = 0;
  if (run_uid == NULL || phase == NULL || phase[0] == '\0')
    return cubit_errorf(err, errlen, CUBIT_EINVAL, "history: a transition needs a run uid and a phase");
  /* One statement: the next seq, and nothing when the last phase is this one
   * or this (phase, at) exists already. */
  static const char sql[] =
      "INSERT INTO transitions (run_uid, seq, phase, at, reason, message)"
      " SELECT ?1, COALESCE(MAX(seq), 0) + 1, ?2, ?3, ?4, ?5 FROM transitions WHERE run_uid = ?1"
      " HAVING COALESCE((SELECT phase FROM transitions WHERE run_uid = ?1 ORDER BY seq DESC LIMIT 1), '') <> ?2"
      " ON CONFLICT DO NOTHING";
  pthread_mutex_lock(&s->mu);
  if (is_pruned(s, run_uid)) {
    pthread_mutex_unlock(&s->mu);
    return 0;
  }
  /* the transition and its count land together */
  int rc = exec_sql(s, "SAVEPOINT transition", err, errlen);
  if (rc) {
    pthread_mutex_unlock(&s->mu);
    return rc;
  }
  sqlite3_stmt *st = NULL;
  rc = run_write(s, sql, &st, err, errlen, "recording a transition");
  if (rc == 0) {
    bind_text(st, 1, run_uid);
    bind_text(st, 2, phase);
    sqlite3_bind_int64(st, 3, at);
    bind_text(st, 4, reason);
    bind_text(st, 5, message);
    rc = finish_write(s, st, err, errlen, "recording a transition");
    int added = rc == 0 && sqlite3_changes(s->db) > 0;
    if (appended) *appended = added;
    if (added) rc = count_phases(s, run_uid, phase, err, errlen);
  }
  if (rc == 0) rc = exec_sql(s, "RELEASE transition", err, errlen);
  if (rc) (void)sqlite3_exec(s->db, "ROLLBACK TO transition; RELEASE transition", NULL, NULL, NULL);
  pthread_mutex_unlock(&s->mu);
  return rc;
}

int hist_store_mark_deleted(hist_store *s, const char *run_uid, int64_t at, char *err, size_t errlen) {
  /* a pruned run's object is gone: it can be seen no more */
  static const char *const sql[] = {"UPDATE runs SET deleted_at = ?2 WHERE uid = ?1 AND deleted_at IS NULL",
                                     "DELETE FROM pruned_runs WHERE uid = ?1"};
  pthread_mutex_lock(&s->mu);
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < 2; i++) {
    sqlite3_stmt *st = NULL;
    rc = run_write(s, sql[i], &st, err, errlen, "recording a deletion");
    if (rc) break;
    bind_text(st, 1, run_uid);
    sqlite3_bind_int64(st, 2, at);
    rc = finish_write(s, st, err, errlen, "recording a deletion");
  }
  pthread_mutex_unlock(&s->mu);
  return rc;
}

/* Ends the run's open intervals at 'at', under s->mu. */
static int close_intervals(hist_store *s, const char *run_uid, int64_t at, char *err, size_t errlen) {
  run_contrib before;
  int rc = rollup_enter(s, run_uid, &before, err, errlen);
  if (rc) return rc;
  sqlite3_stmt *st = NULL;
  rc = run_write(s, "UPDATE pod_intervals SET ended_at = ?2 WHERE run_uid = ?1 AND ended_at IS NULL", &st, err, errlen,
                 "closing intervals");
  if (rc == 0) {
    bind_text(st, 1, run_uid);
    sqlite3_bind_int64(st, 2, at);
    rc = finish_write(s, st, err, errlen, "closing intervals");
  }
  return rollup_leave(s, run_uid, &before, rc, err, errlen);
}

int hist_store_mark_gone(hist_store *s, const char *kind, const char *ns, const char *name, int64_t at, char *err,
                         size_t errlen) {
  static const char sql[] = "SELECT uid FROM runs WHERE kind = ?1 AND namespace = ?2 AND name = ?3 AND deleted_at IS NULL";
  pthread_mutex_lock(&s->mu);
  sqlite3_stmt *st = NULL;
  char **uids = NULL;
  size_t n = 0;
  int rc = prepared(s, sql, &st, err, errlen, "recording a deletion");
  if (rc == 0) {
    bind_text(st, 1, kind);
    bind_text(st, 2, ns);
    bind_text(st, 3, name);
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
      uids = xrealloc(uids, (n + 1) * sizeof *uids);
      uids[n++] = xstrdup((const char *)sqlite3_column_text(st, 0));
    }
    done(s, st);
    if (step != SQLITE_DONE) rc = db_error(s, err, errlen, "recording a deletion");
  }
  for (size_t i = 0; rc == 0 && i < n; i++) {
    rc = close_intervals(s, uids[i], at, err, errlen);
    if (rc == 0) rc = hist_store_mark_deleted(s, uids[i], at, err, errlen);
  }
  pthread_mutex_unlock(&s->mu);
  for (size_t i = 0; i < n; i++) free(uids[i]);
  free(uids);
  return rc;
}

int hist_store_close_intervals(hist_store *s, const char *run_uid, int64_t at, char *err, size_t errlen) {
  pthread_mutex_lock(&s->mu);
  int rc = close_intervals(s, run_uid, at, err, errlen);
  pthread_mutex_unlock(&s->mu);
  return rc;
}

int hist_store_live_keys(hist_store *s, const char *kind, char ***keys, size_t *n, char *err, size_t errlen) {
  *keys = NULL;
  *n = 0;
  pthread_mutex_lock(&s->mu);
  sqlite3_stmt *st = NULL;
  int rc = 0, step;
  size_t cap = 0;
  if (sqlite3_prepare_v2(s->db, "SELECT namespace, name FROM runs WHERE kind = ?1 AND deleted_at IS NULL", -1, &st,
                         NULL) != SQLITE_OK) {
    rc = db_error(s, err, errlen, "listing live runs");
    goto out;
  }
  bind_text(st, 1, kind);
  while ((step = sqlite3_step(st)) == SQLITE_ROW) {
    if (*n == cap) {
      cap = cap ? 2 * cap : 16;
      *keys = xrealloc(*keys, cap * sizeof **keys);
    }
    (*keys)[(*n)++] = xasprintf("%s/%s", sqlite3_column_text(st, 0), sqlite3_column_text(st, 1));
  }
  if (step != SQLITE_DONE) rc = db_error(s, err, errlen, "listing live runs");
out:
  sqlite3_finalize(st);
  pthread_mutex_unlock(&s->mu);
  if (rc) {
    for (size_t i = 0; i < *n; i++) free((*keys)[i]);
    free(*keys);
    *keys = NULL;
    *n = 0;
  }
  return rc;
}

int hist_store_put_interval(hist_store *s, const hist_interval *iv, char *err, size_t errlen) {
  if (iv->pod_uid == NULL || iv->pod_uid[0] == '\0' || iv->run_uid == NULL || iv->started_at <= 0)
    return cubit_errorf(err, errlen, CUBIT_EINVAL, "history: an interval needs a pod uid, a run uid and a start");
  static const char sql[] =
      "INSERT INTO pod_intervals (pod_uid, run_uid, pod_name, node, started_at, ended_at, cpu_milli, gpu_milli, gpu_model)"
      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
      " ON CONFLICT (pod_uid) DO UPDATE SET"
      " started_at = CASE WHEN excluded.started_at < pod_intervals.started_at THEN excluded.started_at"
      "              ELSE pod_intervals.started_at END,"
      " ended_at = COALESCE(pod_intervals.ended_at, excluded.ended_at),"
      " node = CASE WHEN pod_intervals.node = '' THEN excluded.node ELSE pod_intervals.node END";
  pthread_mutex_lock(&s->mu);
  if (is_pruned(s, iv->run_uid)) {
    pthread_mutex_unlock(&s->mu);
    return 0;
  }
  run_contrib before;
  int rc = rollup_enter(s, iv->run_uid, &before, err, errlen);
  if (rc) {
    pthread_mutex_unlock(&s->mu);
    return rc;
  }
  sqlite3_stmt *st = NULL;
  rc = run_write(s, sql, &st, err, errlen, "recording a pod interval");
  if (rc == 0) {
    bind_text(st, 1, iv->pod_uid);
    bind_text(st, 2, iv->run_uid);
    bind_text(st, 3, iv->pod_name);
    bind_text(st, 4, iv->node);
    sqlite3_bind_int64(st, 5, iv->started_at);
    bind_time(st, 6, iv->ended_at);
    sqlite3_bind_int64(st, 7, iv->cpu_milli);
    sqlite3_bind_int64(st, 8, iv->gpu_milli);
    bind_text(st, 9, iv->gpu_model);
    rc = finish_write(s, st, err, errlen, "recording a pod interval");
  }
  rc = rollup_leave(s, iv->run_uid, &before, rc, err, errlen);
  pthread_mutex_unlock(&s->mu);
  return rc;
}

/* ---- reads -------------------------------------------------------------------------- */

/* A JSON object of the current row, one member per column (NULL -> null). */
static json_t *row_object(sqlite3_stmt *st) {
  json_t *o = json_object();
  for (int i = 0; i < sqlite3_column_count(st); i++) {
    const char *name = sqlite3_column_name(st, i);
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_INTEGER: json_object_set_new(o, name, json_integer(sqlite3_column_int64(st, i))); break;
    case SQLITE_NULL: json_object_set_new(o, name, json_null()); break;
    case SQLITE_FLOAT: json_object_set_new(o, name, json_real(sqlite3_column_double(st, i))); break;
    default:
      /* a trial's assignment is stored as JSON text and read as JSON */
      if (strcmp(name, "parameters") == 0) {
        const char *text = (const char *)sqlite3_column_text(st, i);
        json_t *v = text && text[0] ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
        json_object_set_new(o, name, v ? v : json_null());
        break;
      } json_object_set_new(o, name, json_string((const char *)sqlite3_column_text(st, i))); break;
    }
  }
  return o;
}

static const char run_columns[] =
    "uid, kind, namespace, name, project, creator, cluster, template, phase, cpu_milli AS cpuMilli,"
    " memory_bytes AS memoryBytes, gpu_milli AS gpuMilli, gpu_model AS gpuModel, created_at AS createdAt,"
    " finished_at AS finishedAt, deleted_at AS deletedAt, parent_uid AS parentUid, parent_kind AS parentKind,"
    " parent_name AS parentName, task, attempt, trial, parameters, trial_value AS value";

/* Appends formatted text to the SQL text *sql (allocated, the caller's). */
static void sql_cat(char **sql, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sql_cat(char **sql, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *more = xvasprintf(fmt, ap);
  va_end(ap);
  char *joined = xasprintf("%s%s", *sql ? *sql : "", more);
  free(more);
  free(*sql);
  *sql = joined;
}

/* Appends " AND <col> IN (?n, ...)" for n values, numbering from *next. An
 * empty list matches nothing. */
static void append_in(char **sql, const char *col, size_t n, int *next) {
  if (n == 0) {
    sql_cat(sql, " AND 1 = 0");
    return;
  }
  sql_cat(sql, " AND %s IN (", col);
  for (size_t i = 0; i < n; i++) sql_cat(sql, "%s?%d", i ? ", " : "", (*next)++);
  sql_cat(sql, ")");
}

int hist_store_list_runs(hist_store *s, const hist_run_filter *f, json_t **out, char *err, size_t errlen) {
  *out = NULL;
  int limit = f->limit > 0 ? f->limit : 100;
  if (limit > 1000) return cubit_errorf(err, errlen, CUBIT_EINVAL, "history: limit %d is above 1000", limit);
  char *sql = NULL;
  sql_cat(&sql, "SELECT %s FROM runs WHERE 1 = 1", run_columns);
  int next;
  /* Fixed numbers for the scalar filters; projects take ?20 onwards. */
  if (f->kind) sql_cat(&sql, "%s", " AND kind = ?1");
  if (f->creator) sql_cat(&sql, "%s", " AND creator = ?2");
  if (f->phase) sql_cat(&sql, "%s", " AND phase = ?3");
  if (f->ns) sql_cat(&sql, "%s", " AND namespace = ?4");
  if (f->from) sql_cat(&sql, "%s", " AND created_at >= ?5");
  if (f->to) sql_cat(&sql, "%s", " AND created_at < ?6");
  if (f->after_uid)
    sql_cat(&sql, "%s", " AND (created_at < (SELECT created_at FROM runs WHERE uid = ?7) OR"
                         " (created_at = (SELECT created_at FROM runs WHERE uid = ?7) AND uid > ?7))");
  if (f->parent_uid) sql_cat(&sql, "%s", " AND parent_uid = ?8");
  next = 20;
  if (f->projects) append_in(&sql, "project", f->nprojects, &next);
  if (f->nlabels > HIST_MAX_LABEL_SELS) {
    free(sql);
    return cubit_errorf(err, errlen, CUBIT_EINVAL, "history: more than %d label selectors", HIST_MAX_LABEL_SELS);
  }
  /* labels take ?60 on, two each (name, value) */
  for (size_t i = 0; i < f->nlabels; i++) {
    const hist_label_sel *l = &f->labels[i];
    int a = 60 + 2 * (int)i;
    int negate = l->op == HIST_LABEL_NE || l->op == HIST_LABEL_NOT_EXISTS;
    int with_value = l->op == HIST_LABEL_EQ || l->op == HIST_LABEL_NE;
    sql_cat(&sql, " AND uid %sIN (SELECT run_uid FROM run_labels WHERE name = ?%d", negate ? "NOT " : "", a);
    if (with_value) sql_cat(&sql, " AND value = ?%d", a + 1);
    sql_cat(&sql, "%s", ")");
  }
  sql_cat(&sql, " ORDER BY created_at DESC, uid LIMIT %d", limit);

  pthread_mutex_lock(&s->mu);
  sqlite3_stmt *st = NULL;
  int rc = 0;
  if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
    rc = db_error(s, err, errlen, "listing runs");
    goto out;
  }
  if (f->kind) bind_text(st, 1, f->kind);
  if (f->creator) bind_text(st, 2, f->creator);
  if (f->phase) bind_text(st, 3, f->phase);
  if (f->ns) bind_text(st, 4, f->ns);
  if (f->from) sqlite3_bind_int64(st, 5, f->from);
  if (f->to) sqlite3_bind_int64(st, 6, f->to);
  if (f->after_uid) bind_text(st, 7, f->after_uid);
  if (f->parent_uid) bind_text(st, 8, f->parent_uid);
  for (size_t i = 0; f->projects && i < f->nprojects; i++) bind_text(st, 20 + (int)i, f->projects[i]);
  for (size_t i = 0; i < f->nlabels; i++) {
    bind_text(st, 60 + 2 * (int)i, f->labels[i].name);
    if (f->labels[i].op == HIST_LABEL_EQ || f->labels[i].op == HIST_LABEL_NE)
      bind_text(st, 61 + 2 * (int)i, f->labels[i].value);
  }
  json_t *arr = json_array();
  int step;
  while ((step = sqlite3_step(st)) == SQLITE_ROW) json_array_append_new(arr, row_object(st));
  if (step != SQLITE_DONE) {
    json_decref(arr);
    rc = db_error(s, err, errlen, "listing runs");
    goto out;
  }
  *out = arr;
out:
  sqlite3_finalize(st);
  pthread_mutex_unlock(&s->mu);
  free(sql);
  return rc;
}

/* Runs 'sql' with ?1 = uid and returns the rows as an array in *out. */
static int select_array(hist_store *s, const char *sql, const char *uid, json_t **out, char *err, size_t errlen) {
  sqlite3_stmt *st = NULL;
  *out = NULL;
  if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) return db_error(s, err, errlen, "reading a run");
  bind_text(st, 1, uid);
  json_t *arr = json_array();
  int step;
  while ((step = sqlite3_step(st)) == SQLITE_ROW) json_array_append_new(arr, row_object(st));
  sqlite3_finalize(st);
  if (step != SQLITE_DONE) {
    json_decref(arr);
    return db_error(s, err, errlen, "reading a run");
  }
  *out = arr;
  return 0;
}

int hist_store_get_run(hist_store *s, const char *uid, json_t **out, char *err, size_t errlen) {
  *out = NULL;
  char *sql = xasprintf("SELECT %s FROM runs WHERE uid = ?1", run_columns);
  char *children_sql = xasprintf("SELECT %s FROM runs WHERE parent_uid = ?1 ORDER BY created_at, uid LIMIT %d",
                                 run_columns, HIST_MAX_CHILDREN);
  json_t *runs = NULL, *tr = NULL, *pods = NULL, *children = NULL;
  pthread_mutex_lock(&s->mu);
  int rc = select_array(s, sql, uid, &runs, err, errlen);
  if (rc == 0 && json_array_size(runs) == 0)
    rc = cubit_errorf(err, errlen, CUBIT_ENOTFOUND, "history: no run with uid %s", uid);
  if (rc == 0)
    rc = select_array(s, "SELECT phase, at, reason, message FROM transitions WHERE run_uid = ?1 ORDER BY seq", uid,
                      &tr, err, errlen);
  if (rc == 0)
    rc = select_array(s,
                      "SELECT pod_uid AS uid, pod_name AS name, node, started_at AS startedAt, ended_at AS endedAt,"
                      " cpu_milli AS cpuMilli, gpu_milli AS gpuMilli, gpu_model AS gpuModel"
                      " FROM pod_intervals WHERE run_uid = ?1 ORDER BY started_at, pod_uid",
                      uid, &pods, err, errlen);
  if (rc == 0) rc = select_array(s, children_sql, uid, &children, err, errlen);
  json_t *label_rows = NULL;
  if (rc == 0)
    rc = select_array(s, "SELECT name, value FROM run_labels WHERE run_uid = ?1 ORDER BY name", uid, &label_rows, err,
                      errlen);
  pthread_mutex_unlock(&s->mu);
  free(sql);
  free(children_sql);
  if (rc == 0) {
    *out = json_incref(json_array_get(runs, 0));
    json_object_set_new(*out, "transitions", tr);
    json_object_set_new(*out, "pods", pods);
    json_object_set_new(*out, "children", children);
    json_t *labels = json_object();
    size_t i;
    json_t *row;
    json_array_foreach(label_rows, i, row) json_object_set(labels, js_str(row, "name"), json_object_get(row, "value"));
    json_object_set_new(*out, "labels", labels);
  } else {
    json_decref(tr);
    json_decref(pods);
    json_decref(children);
  }
  json_decref(runs);
  json_decref(label_rows);
  return rc;
}

int hist_store_trials(hist_store *s, const char *ns, const char *name, json_t **out, char *project,
                      size_t projectlen, char *err, size_t errlen) {
  *out = NULL;
  if (projectlen) project[0] = '\0';
  static const char sql[] =
      "SELECT name, uid, trial, parameters, trial_value AS value, phase, project, created_at AS createdAt,"
      " finished_at AS finishedAt, deleted_at AS deletedAt FROM runs"
      " WHERE namespace = ?1 AND parent_kind = 'Experiment' AND parent_name = ?2 ORDER BY trial, created_at, uid";
  pthread_mutex_lock(&s->mu);
  sqlite3_stmt *st = NULL;
  int rc = prepared(s, sql, &st, err, errlen, "listing trials");
  if (rc) goto out;
  bind_text(st, 1, ns);
  bind_text(st, 2, name);
  json_t *arr = json_array();
  int step;
  while ((step = sqlite3_step(st)) == SQLITE_ROW) {
    json_t *row = row_object(st);
    /* the trials share their Experiment's namespace, hence its project */
    if (projectlen && project[0] == '\0') {
      const char *p = js_str(row, "project");
      snprintf(project, projectlen, "%s", p ? p : "");
    }
    json_object_del(row, "project");
    json_array_append_new(arr, row);
  }
  done(s, st);
  if (step != SQLITE_DONE) {
    json_decref(arr);
    rc = db_error(s, err, errlen, "listing trials");
    goto out;
  }
  *out = arr;
out:
  pthread_mutex_unlock(&s->mu);
  return rc;
}

/* Deletes the runs of 'uids' (n of them) with their rows, in the caller's transaction. */
static int delete_runs(hist_store *s, char **uids, size_t n, char *err, size_t errlen) {
  /* The roll-ups keep the run's usage (billing outlives the raw rows);
   * its active days go with it (the query reads them raw, and there is
   * nothing raw left). A run whose object may still exist is remembered,
   * so seeing it again does not count it twice. */
  static const char *const sql[] = {
      "INSERT INTO pruned_runs (uid) SELECT uid FROM runs WHERE uid = ?1 AND deleted_at IS NULL ON CONFLICT DO NOTHING",
      "DELETE FROM transitions WHERE run_uid = ?1", "DELETE FROM pod_intervals WHERE run_uid = ?1",
      "DELETE FROM run_labels WHERE run_uid = ?1",
      "DELETE FROM runs WHERE uid = ?1"};
  for (size_t i = 0; i < n; i++) {
    run_contrib c;
    int rc = contrib_read(s, uids[i], &c, err, errlen);
    if (rc == 0) rc = contrib_apply(s, uids[i], &c, -1, 0, err, errlen);
    contrib_free(&c);
    if (rc) return rc;
    for (size_t k = 0; k < sizeof sql / sizeof sql[0]; k++) {
      sqlite3_stmt *st = NULL;
      rc = run_write(s, sql[k], &st, err, errlen, "pruning a run");
      if (rc) return rc;
      bind_text(st, 1, uids[i]);
      rc = finish_write(s, st, err, errlen, "pruning a run");
      if (rc) return rc;
    }
  }
  return 0;
}

/* The uids the static query 'sql' selects with ?1 = a and ?2 = b (at most
 * 'limit' by its own LIMIT ?3). */
static int select_uids(hist_store *s, const char *sql, int64_t a, int64_t b, int limit, char ***uids, size_t *n,
                       char *err, size_t errlen) {
  sqlite3_stmt *st = NULL;
  int rc = prepared(s, sql, &st, err, errlen, "choosing runs to prune");
  if (rc) return rc;
  sqlite3_bind_int64(st, 1, a);
  sqlite3_bind_int64(st, 2, b);
  sqlite3_bind_int(st, 3, limit);
  *uids = xcalloc((size_t)limit, sizeof **uids);
  *n = 0;
  int step;
  while ((step = sqlite3_step(st)) == SQLITE_ROW && *n < (size_t)limit)
    (*uids)[(*n)++] = xstrdup((const char *)sqlite3_column_text(st, 0));
  done(s, st);
  if (step != SQLITE_DONE && step != SQLITE_ROW) rc = db_error(s, err, errlen, "choosing runs to prune");
  return rc;
}

int hist_store_prune(hist_store *s, int64_t before, int64_t max_runs, int batch, int *deleted, char *err,
                     size_t errlen) {
  *deleted = 0;
  if (batch <= 0) return cubit_errorf(err, errlen, CUBIT_EINVAL, "history: a prune batch must be positive");
  /* Ended before the cutoff; created_at <= the end, so its index narrows the scan. */
  static const char old_sql[] =
      "SELECT uid FROM runs WHERE created_at < ?1 AND COALESCE(finished_at, deleted_at) < ?1"
      " ORDER BY created_at LIMIT ?3";
  /* Over the count: the oldest ended runs past the newest max_runs. */
  static const char count_sql[] = "SELECT COUNT(*) FROM runs";
  static const char over_sql[] =
      "SELECT uid FROM runs WHERE COALESCE(finished_at, deleted_at) IS NOT NULL"
      " ORDER BY created_at LIMIT MIN(?2, ?3)";
  char **uids = NULL;
  size_t n = 0;
  pthread_mutex_lock(&s->mu);
  int rc = exec_sql(s, "BEGIN IMMEDIATE", err, errlen);
  if (rc) goto out;
  if (before > 0) rc = select_uids(s, old_sql, before, 0, batch, &uids, &n, err, errlen);
  if (rc == 0 && n == 0 && max_runs > 0) {
    free(uids);
    uids = NULL;
    sqlite3_stmt *st = NULL;
    rc = prepared(s, count_sql, &st, err, errlen, "counting runs");
    if (rc == 0) {
      int64_t count = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
      done(s, st);
      if (count > max_runs) rc = select_uids(s, over_sql, 0, count - max_runs, batch, &uids, &n, err, errlen);
    }
  }
  if (rc == 0) rc = delete_runs(s, uids, n, err, errlen);
  if (rc == 0) rc = exec_sql(s, "COMMIT", err, errlen);
  if (rc) (void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
  else *deleted = (int)n;
out:
  pthread_mutex_unlock(&s->mu);
  for (size_t i = 0; i < n; i++) free(uids[i]);
  free(uids);
  return rc;
}

int64_t hist_store_size(hist_store *s) {
  pthread_mutex_lock(&s->mu);
  int64_t size = 0;
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(s->db, "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()", -1, &st,
                         NULL) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW)
    size = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  pthread_mutex_unlock(&s->mu);
  return size;
}

/* ---- usage --------------------------------------------------------------------------- */

int64_t hist_clip_seconds(int64_t start, int64_t end, int64_t from, int64_t to, int64_t now) {
  if (end <= 0) end = now;
  int64_t a = start > from ? start : from;
  int64_t b = end < to ? end : to;
  return b > a ? b - a : 0;
}

typedef struct {
  hist_usage_row *rows;
  size_t n, cap;
  size_t last;     /* the row found last: cells come in runs of one key */
  int64_t day;     /* the last cell's day, its period's start and label (cell_add) */
  int64_t period;
  char label[32];
  char **last_run; /* per row: the last run counted, so a run counts once (intervals come ordered by run) */
} usage_acc;

static hist_usage_row *acc_find(usage_acc *a, const char *key) {
  if (a->last < a->n && strcmp(a->rows[a->last].key, key) == 0) return &a->rows[a->last];
  size_t i;
  for (i = 0; i < a->n; i++)
    if (strcmp(a->rows[i].key, key) == 0) {
      a->last = i;
      return &a->rows[i];
    }
  if (a->n == a->cap) {
    a->cap = a->cap ? 2 * a->cap : 16;
    a->rows = xrealloc(a->rows, a->cap * sizeof *a->rows);
    a->last_run = xrealloc(a->last_run, a->cap * sizeof *a->last_run);
  }
  memset(&a->rows[i], 0, sizeof a->rows[i]);
  snprintf(a->rows[i].key, sizeof a->rows[i].key, "%s", key);
  a->last_run[i] = NULL;
  a->n++;
  a->last = i;
  return &a->rows[i];
}

/* The row of 'key', counting run_uid once in it. */
static hist_usage_row *acc_row(usage_acc *a, const char *key, const char *run_uid) {
  hist_usage_row *r = acc_find(a, key);
  size_t i = (size_t)(r - a->rows);
  if (a->last_run[i] == NULL || strcmp(a->last_run[i], run_uid) != 0) {
    free(a->last_run[i]);
    a->last_run[i] = xstrdup(run_uid);
    r->runs++;
  }
  return r;
}

static void acc_add(usage_acc *a, const char *key, const char *run_uid, int64_t secs, int64_t gpu_milli,
                    int64_t cpu_milli) {
  hist_usage_row *r = acc_row(a, key, run_uid);
  r->gpu_milli_seconds += secs * gpu_milli;
  r->cpu_milli_seconds += secs * cpu_milli;
}

static void acc_free(usage_acc *a) {
  for (size_t i = 0; i < a->n; i++) free(a->last_run[i]);
  free(a->last_run);
  free(a->rows);
}

static int cmp_rows(const void *x, const void *y) {
  return strcmp(((const hist_usage_row *)x)->key, ((const hist_usage_row *)y)->key);
}

/* The UTC period (day, ISO week from Monday, month) that holds t: its
 * start, the next one's start, and its label. */
static int64_t period_start(int64_t t, hist_group by) {
  int64_t day = (t >= 0 ? t / 86400 : (t - 86399) / 86400) * 86400;
  if (by == HIST_BY_WEEK) {
    /* 1970-01-01 was a Thursday: day 0 is weekday 3 counted from Monday. */
    int64_t n = day / 86400, weekday = ((n + 3) % 7 + 7) % 7;
    return day - weekday * 86400;
  }
  if (by == HIST_BY_MONTH) {
    struct tm tm;
    time_t tt = (time_t)day;
    gmtime_r(&tt, &tm);
    return day - (int64_t)(tm.tm_mday - 1) * 86400;
  }
  return day;
}

static int64_t period_next(int64_t p, hist_group by) {
  if (by == HIST_BY_WEEK) return p + 7 * 86400;
  if (by == HIST_BY_MONTH) {
    struct tm tm;
    time_t tt = (time_t)p;
    gmtime_r(&tt, &tm);
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y = tm.tm_year + 1900;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return p + (int64_t)(days[tm.tm_mon] + (tm.tm_mon == 1 && leap)) * 86400;
  }
  return p + 86400;
}

static void period_label(int64_t p, hist_group by, char *out, size_t len) {
  struct tm tm;
  time_t tt = (time_t)p;
  gmtime_r(&tt, &tm);
  strftime(out, len, by == HIST_BY_WEEK ? "%G-W%V" : by == HIST_BY_MONTH ? "%Y-%m" : "%Y-%m-%d", &tm);
}

static int is_period(hist_group by) { return by == HIST_BY_DAY || by == HIST_BY_WEEK || by == HIST_BY_MONTH; }

/* One interval of a run, clipped to [from, to) (and split at the edges of
 * the periods when grouping by one), into the answer. end 0: open, up to now. */
static void raw_add(usage_acc *a, hist_group by, const char *run, const char *project, const char *creator,
                    const char *model, int64_t start, int64_t end, int64_t gpu, int64_t cpu, int64_t from, int64_t to,
                    int64_t now) {
  if (!is_period(by)) {
    const char *key = by == HIST_BY_MEMBER ? creator : by == HIST_BY_PROJECT ? project : model;
    int64_t secs = hist_clip_seconds(start, end, from, to, now);
    if (secs > 0) acc_add(a, key, run, secs, gpu, cpu);
    return;
  }
  for (int64_t p = period_start(start > from ? start : from, by); p < to;) {
    int64_t edge = period_next(p, by);
    int64_t secs = hist_clip_seconds(start, end, p > from ? p : from, edge < to ? edge : to, now);
    if (secs <= 0) break;
    char label[32];
    period_label(p, by, label, sizeof label);
    acc_add(a, label, run, secs, gpu, cpu);
    p = edge;
  }
}

/* One roll-up cell (a run's, or a sum of them) of whole days from 'whole'
 * on, into the answer with 'sign'. Its runs count only where the run is
 * first seen in the group's part of the window (rollup.h). */
static void cell_add(usage_acc *a, hist_group by, int64_t whole, const char *project, const char *creator,
                     const hist_cell *c, int sign) {
  const char *key = by == HIST_BY_MEMBER ? creator : by == HIST_BY_PROJECT ? project : c->model;
  int64_t first = whole;
  if (is_period(by)) {
    if (c->day != a->day) { /* cells come ordered by day: a label per day, not per cell */
      a->day = c->day;
      a->period = period_start(c->day, by);
      period_label(a->period, by, a->label, sizeof a->label);
    }
    key = a->label;
    if (a->period > first) first = a->period;
  }
  hist_usage_row *r = acc_find(a, key);
  r->gpu_milli_seconds += sign * c->gpu_milli_seconds;
  r->cpu_milli_seconds += sign * c->cpu_milli_seconds;
  if (by == HIST_BY_GPU_MODEL) {
    if (c->prev_model < first) r->runs += sign * c->runs_model;
  } else if (c->prev_any < first) {
    r->runs += sign * c->runs_any;
  }
}

/* Appends " AND col IN (?3, ...)" (the projects always take ?3 on), or nothing for all. */
static void append_projects(char **sql, const char *col, const char *const *projects, size_t n) {
  int next = 3;
  if (projects) append_in(sql, col, n, &next);
}

/* Usage from the roll-ups: the whole days [whole, end) from the cells;
 * the runs active on the window's partial first or last day, and those
 * with a pod still running, from their intervals over the whole window
 * (their cells taken away again). Called under s->mu. */
static int usage_rollup(hist_store *s, const char *const *projects, size_t np, hist_group by, int64_t from,
                        int64_t to, int64_t now, int64_t whole, int64_t end, usage_acc *a, char *err, size_t errlen) {
  char *sql = NULL;
  sql_cat(&sql, "%s", "SELECT day, project, creator, gpu_model, prev_any, prev_model, gpu_milli_seconds,"
                       " cpu_milli_seconds, runs_any, runs_model FROM usage_days WHERE day >= ?1 AND day < ?2");
  append_projects(&sql, "project", projects, np);
  sqlite3_stmt *st = NULL;
  int rc = 0, step = SQLITE_DONE;
  if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) goto fail;
  sqlite3_bind_int64(st, 1, whole);
  sqlite3_bind_int64(st, 2, end);
  for (size_t i = 0; projects && i < np; i++) bind_text(st, 3 + (int)i, projects[i]);
  while ((step = sqlite3_step(st)) == SQLITE_ROW) {
    hist_cell c = {.day = sqlite3_column_int64(st, 0),
                   .prev_any = sqlite3_column_int64(st, 4),
                   .prev_model = sqlite3_column_int64(st, 5),
                   .gpu_milli_seconds = sqlite3_column_int64(st, 6),
                   .cpu_milli_seconds = sqlite3_column_int64(st, 7),
                   .runs_any = sqlite3_column_int64(st, 8),
                   .runs_model = sqlite3_column_int64(st, 9)};
    copy_col(c.model, sizeof c.model, st, 3);
    cell_add(a, by, whole, (const char *)sqlite3_column_text(st, 1), (const char *)sqlite3_column_text(st, 2), &c, 1);
  }
  if (step != SQLITE_DONE) goto fail;
  sqlite3_finalize(st);
  st = NULL;
  free(sql);
  sql = NULL;

  sql_cat(&sql, "%s", "SELECT r.uid, r.project, r.creator, i.started_at, i.ended_at, i.gpu_milli, i.cpu_milli,"
                       " i.gpu_model FROM runs r JOIN pod_intervals i ON i.run_uid = r.uid WHERE r.uid IN"
                       " (SELECT run_uid FROM usage_run_days WHERE day IN (?1, ?2)");
  append_projects(&sql, "project", projects, np);
  sql_cat(&sql, "%s", " UNION SELECT run_uid FROM pod_intervals WHERE ended_at IS NULL)");
  append_projects(&sql, "r.project", projects, np);
  sql_cat(&sql, "%s", " ORDER BY r.uid");
  if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) goto fail;
  sqlite3_bind_int64(st, 1, from < whole ? hist_day_of(from) : -1);
  sqlite3_bind_int64(st, 2, to > end ? end : -1);
  for (size_t i = 0; projects && i < np; i++) bind_text(st, 3 + (int)i, projects[i]);
  char run[72] = "", project[256] = "", creator[520] = "";
  hist_span *spans = NULL;
  size_t n = 0, cap = 0;
  int open = 0;
  for (;;) {
    step = sqlite3_step(st);
    const char *uid = step == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
    if (run[0] && (uid == NULL || strcmp(uid, run) != 0)) {
      /* the run before is whole: take its cells of the whole days away */
      hist_cell *cells = NULL;
      size_t nc = 0;
      if (!open) hist_rollup_cells(spans, n, &cells, &nc);
      for (size_t k = 0; k < nc; k++)
        if (cells[k].day >= whole && cells[k].day < end) cell_add(a, by, whole, project, creator, &cells[k], -1);
      free(cells);
      n = 0;
      open = 0;
    }
    if (uid == NULL) break;
    if (strcmp(uid, run) != 0) {
      snprintf(run, sizeof run, "%s", uid);
      copy_col(project, sizeof project, st, 1);
      copy_col(creator, sizeof creator, st, 2);
    }
    open |= span_from_row(st, 3, &spans, &n, &cap);
    int64_t iv_end = sqlite3_column_type(st, 4) == SQLITE_NULL ? 0 : sqlite3_column_int64(st, 4);
    raw_add(a, by, run, project, creator, (const char *)sqlite3_column_text(st, 7), sqlite3_column_int64(st, 3), iv_end,
            sqlite3_column_int64(st, 5), sqlite3_column_int64(st, 6), from, to, now);
  }
  free(spans);
  if (step != SQLITE_DONE) goto fail;
  goto out;
fail:
  rc = db_error(s, err, errlen, "measuring usage");
out:
  sqlite3_finalize(st);
  free(sql);
  return rc;
}

/* Sorts the answer and drops the groups the roll-ups' arithmetic left
 * empty (a group only a run read raw was in, taken away again). */
static void acc_finish(usage_acc *a, hist_usage_row **rows, size_t *nrows) {
  size_t k = 0;
  for (size_t i = 0; i < a->n; i++)
    if (a->rows[i].runs || a->rows[i].gpu_milli_seconds || a->rows[i].cpu_milli_seconds) a->rows[k++] = a->rows[i];
  if (k > 1) qsort(a->rows, k, sizeof *a->rows, cmp_rows);
  *rows = a->rows;
  *nrows = k;
  a->rows = NULL;
}

int hist_store_usage(hist_store *s, const char *const *projects, size_t nprojects, hist_group by, int64_t from,
                     int64_t to, int64_t now, hist_usage_row **rows, size_t *nrows, char *err, size_t errlen) {
  *rows = NULL;
  *nrows = 0;
  if (to <= from) return cubit_errorf(err, errlen, CUBIT_EINVAL, "history: the window [from, to) is empty");
  /* the whole UTC days inside the window */
  int64_t whole = hist_day_of(from) == from ? from : hist_day_of(from) + HIST_DAY, end = hist_day_of(to);
  if (whole >= end) return hist__store_usage_raw(s, projects, nprojects, by, from, to, now, rows, nrows, err, errlen);
  usage_acc a = {.day = -1};
  pthread_mutex_lock(&s->mu);
  int rc = usage_rollup(s, projects, nprojects, by, from, to, now, whole, end, &a, err, errlen);
  pthread_mutex_unlock(&s->mu);
  if (rc == 0) acc_finish(&a, rows, nrows);
  acc_free(&a);
  return rc;
}

int hist__store_usage_raw(hist_store *s, const char *const *projects, size_t nprojects, hist_group by, int64_t from,
                          int64_t to, int64_t now, hist_usage_row **rows, size_t *nrows, char *err, size_t errlen) {
  *rows = NULL;
  *nrows = 0;
  if (to <= from) return cubit_errorf(err, errlen, CUBIT_EINVAL, "history: the window [from, to) is empty");
  char *sql = NULL;
  /* Driven by the runs that were not over a day before the window (a pod's
   * end may trail its run's by clock skew; the intervals clip exactly):
   * runs_project_ended finds them without reading a project's whole past. */
  sql_cat(&sql, "%s", "SELECT i.run_uid, i.started_at, i.ended_at, i.gpu_milli, i.cpu_milli, i.gpu_model,"
                       " r.project, r.creator FROM runs r JOIN pod_intervals i ON i.run_uid = r.uid"
                       " WHERE COALESCE(r.finished_at, r.deleted_at, 9223372036854775807) >= ?2 - 86400"
                       " AND i.started_at < ?1 AND (i.ended_at IS NULL OR i.ended_at > ?2)");
  int next = 3;
  if (projects) append_in(&sql, "r.project", nprojects, &next);
  sql_cat(&sql, "%s", " ORDER BY i.run_uid");
  usage_acc a = {0};
  pthread_mutex_lock(&s->mu);
  sqlite3_stmt *st = NULL;
  int rc = 0, step;
  if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
    rc = db_error(s, err, errlen, "measuring usage");
    goto out;
  }
  sqlite3_bind_int64(st, 1, to);
  sqlite3_bind_int64(st, 2, from);
  for (size_t i = 0; projects && i < nprojects; i++) bind_text(st, 3 + (int)i, projects[i]);
  while ((step = sqlite3_step(st)) == SQLITE_ROW) {
    int64_t end = sqlite3_column_type(st, 2) == SQLITE_NULL ? 0 : sqlite3_column_int64(st, 2);
    raw_add(&a, by, (const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 6),
            (const char *)sqlite3_column_text(st, 7), (const char *)sqlite3_column_text(st, 5),
            sqlite3_column_int64(st, 1), end, sqlite3_column_int64(st, 3), sqlite3_column_int64(st, 4), from, to, now);
  }
  if (step != SQLITE_DONE) {
    rc = db_error(s, err, errlen, "measuring usage");
    goto out;
  }
  acc_finish(&a, rows, nrows);
out:
  sqlite3_finalize(st);
  pthread_mutex_unlock(&s->mu);
  acc_free(&a);
  free(sql);
  return rc;
}

/* ---- Prometheus counters ------------------------------------------------------------ */

/* Adds to counter m (labels a, b, c: as many as its family has) what the
 * database's total has over its value: never less, so a counter only grows. */
static void raise_to(metric *m, double total, int nlabels, const char *a, const char *b, const char *c) {
  double cur = nlabels == 1 ? metric_value(m, a) : nlabels == 2 ? metric_value(m, a, b) : metric_value(m, a, b, c);
  if (total <= cur) return;
  if (nlabels == 1) metric_add(m, total - cur, a);
  else if (nlabels == 2) metric_add(m, total - cur, a, b);
  else metric_add(m, total - cur, a, b, c);
}

int hist_store_sync_metrics(hist_store *s, metrics_registry *reg, char *err, size_t errlen) {
  static const char *const sql[] = {
      "SELECT project, gpu_model, gpu_milli_seconds FROM usage_totals WHERE project <> '' AND gpu_milli_seconds > 0",
      "SELECT project, SUM(cpu_milli_seconds) FROM usage_totals WHERE project <> '' GROUP BY project",
      "SELECT project, kind, phase, runs FROM phase_counts WHERE project <> '' AND runs > 0"};
  metric *gpu = metrics_counter(reg, "cubit_project_gpu_seconds_total",
                                "GPU card-seconds of a project's runs with no pod running, by GPU model (from the run history)",
                                "project,gpu_model");
  metric *cpu = metrics_counter(reg, "cubit_project_cpu_seconds_total",
                                "CPU core-seconds requested by a project's runs with no pod running (from the run history)",
                                "project");
  metric *runs = metrics_counter(reg, "cubit_project_runs_total",
                                 "Runs of a project that entered a phase, by kind (from the run history)",
                                 "project,kind,phase");
  /* under the store's mutex: one sync at a time, so no two add the same difference */
  pthread_mutex_lock(&s->mu);
  int rc = 0;
  for (size_t q = 0; q < 3 && rc == 0; q++) {
    sqlite3_stmt *st = NULL;
    rc = prepared(s, sql[q], &st, err, errlen, "reading the usage totals");
    if (rc) break;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
      const char *a = (const char *)sqlite3_column_text(st, 0), *b = (const char *)sqlite3_column_text(st, 1);
      if (q == 0) raise_to(gpu, (double)sqlite3_column_int64(st, 2) / 1000, 2, a, b, NULL);
      else if (q == 1) raise_to(cpu, (double)sqlite3_column_int64(st, 1) / 1000, 1, a, NULL, NULL);
      else raise_to(runs, (double)sqlite3_column_int64(st, 3), 3, a, b, (const char *)sqlite3_column_text(st, 2));
    }
    done(s, st);
    if (step != SQLITE_DONE) rc = db_error(s, err, errlen, "reading the usage totals");
  }
  pthread_mutex_unlock(&s->mu);
  return rc;
}
