/* Tests of history/store: schema and migrations, idempotent writes (a
 * recorder that replays what exists writes nothing twice), the interval
 * arithmetic and the GPU-seconds aggregations. */
#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "history/rollup.h"
#include "history/store.h"
#include "util/json.h"
#include "util/metrics.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define DAY 86400
#define T0 1796083200 /* 2026-12-01T00:00:00Z */

static hist_store *open_mem(void) {
  char err[256] = "";
  hist_store *s = NULL;
  ck_assert_msg(hist_store_open(":memory:", &s, err, sizeof err) == 0, "open: %s", err);
  return s;
}

static void put_run(hist_store *s, const char *uid, const char *project, const char *creator, int64_t created) {
  char err[256] = "";
  hist_run r = {.uid = uid, .kind = "TrainingJob", .ns = "team-a", .name = uid, .project = project,
                .creator = creator, .phase = "Pending", .gpu_milli = 2000, .gpu_model = "A100",
                .created_at = created};
  ck_assert_msg(hist_store_put_run(s, &r, err, sizeof err) == 0, "put_run: %s", err);
}

static void put_iv(hist_store *s, const char *pod, const char *run, int64_t start, int64_t end, int64_t gpu_milli,
                   const char *model) {
  char err[256] = "";
  hist_interval iv = {.pod_uid = pod, .run_uid = run, .pod_name = pod, .node = "n1", .started_at = start,
                      .ended_at = end, .cpu_milli = 1000, .gpu_milli = gpu_milli, .gpu_model = model};
  ck_assert_msg(hist_store_put_interval(s, &iv, err, sizeof err) == 0, "put_interval: %s", err);
}

static json_t *get_run(hist_store *s, const char *uid) {
  char err[256] = "";
  json_t *j = NULL;
  ck_assert_msg(hist_store_get_run(s, uid, &j, err, sizeof err) == 0, "get_run: %s", err);
  return j;
}

START_TEST(open_memory_at_current_version) {
  hist_store *s = open_mem();
  ck_assert_int_eq(hist_store_version(s), HIST_SCHEMA_VERSION);
  hist_store_close(s);
}
END_TEST

static void raw_exec(const char *path, const char *sql) {
  sqlite3 *db = NULL;
  ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
  char *msg = NULL;
  ck_assert_msg(sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK, "%s: %s", sql, msg ? msg : "");
  sqlite3_close(db);
}

static int raw_count(const char *path, const char *sql) {
  sqlite3 *db = NULL;
  ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
  sqlite3_stmt *st = NULL;
  ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
  ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
  int n = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return n;
}

/* A database left by every earlier binary (versions 1 and 2, rows written
 * with that version's columns) migrates to the current version keeping its
 * rows; what later versions add reads as "none". */
START_TEST(migration_keeps_data) {
  int from = 1 + _i;
  char *dir = testutil_tmpdir();
  char *path = testutil_write_file(dir, "h.db", "");
  char err[256] = "";
  hist_store *s = NULL;
  ck_assert_msg(hist__store_open_at(path, from, &s, err, sizeof err) == 0, "%s", err);
  ck_assert_int_eq(hist_store_version(s), from);
  hist_store_close(s);
  raw_exec(path,
           "INSERT INTO runs (uid, kind, namespace, name, project, creator, phase, gpu_milli, created_at, finished_at)"
           " VALUES ('u1', 'TrainingJob', 'ns', 'tj', 'p', 'alice', 'Succeeded', 1000, 1796083200, 1796083300);"
           "INSERT INTO transitions (run_uid, seq, phase, at) VALUES ('u1', 1, 'Succeeded', 1796083300);"
           "INSERT INTO pod_intervals (pod_uid, run_uid, started_at, ended_at, gpu_milli)"
           " VALUES ('pod1', 'u1', 1796083200, 1796083300, 1000);");

  ck_assert_msg(hist_store_open(path, &s, err, sizeof err) == 0, "%s", err);
  ck_assert_int_eq(hist_store_version(s), HIST_SCHEMA_VERSION);
  json_t *r = get_run(s, "u1");
  ck_assert_str_eq(json_string_value(json_object_get(r, "creator")), "alice");
  ck_assert_int_eq(json_array_size(json_object_get(r, "transitions")), 1);
  ck_assert_int_eq(json_array_size(json_object_get(r, "pods")), 1);
  ck_assert_int_eq(json_array_size(json_object_get(r, "children")), 0);
  ck_assert_str_eq(json_string_value(json_object_get(r, "parentUid")), "");
  ck_assert(json_is_null(json_object_get(r, "trial")));
  ck_assert(json_is_null(json_object_get(r, "value")));
  ck_assert(json_is_null(json_object_get(r, "parameters")));
  json_decref(r);
  /* the old run counts in usage through the new index */
  hist_usage_row *rows = NULL;
  size_t n = 0;
  ck_assert_int_eq(hist_store_usage(s, NULL, 0, HIST_BY_PROJECT, T0, T0 + DAY, T0 + DAY, &rows, &n, err, sizeof err), 0);
  ck_assert_uint_eq(n, 1);
  ck_assert_int_eq(rows[0].gpu_milli_seconds, 100 * 1000);
  free(rows);
  hist_store_close(s);

  /* Every version's indexes exist; opening again changes nothing. */
  ck_assert_msg(hist_store_open(path, &s, err, sizeof err) == 0, "%s", err);
  ck_assert_int_eq(hist_store_version(s), HIST_SCHEMA_VERSION);
  hist_store_close(s);
  ck_assert_int_eq(raw_count(path, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name IN"
                                   " ('runs_creator_created', 'runs_parent', 'runs_parent_name', 'runs_project_ended')"),
                   4);
  ck_assert_int_eq(raw_count(path, "SELECT COUNT(*) FROM schema_version"), 1);
  ck_assert_int_eq(raw_count(path, "SELECT COUNT(*) FROM runs"), 1);
  /* A database from a newer binary is refused, not damaged. */
  raw_exec(path, "UPDATE schema_version SET version = 99");
  ck_assert_int_eq(hist_store_open(path, &s, err, sizeof err), CUBIT_ENOTSUP);
  ck_assert_ptr_null(s);
  ck_assert_ptr_nonnull(strstr(err, "newer"));
  ck_assert_int_eq(raw_count(path, "SELECT COUNT(*) FROM runs"), 1);
  char *wal = NULL, *shm = NULL;
  wal = malloc(strlen(path) + 8);
  shm = malloc(strlen(path) + 8);
  sprintf(wal, "%s-wal", path);
  sprintf(shm, "%s-shm", path);
  unlink(wal);
  unlink(shm);
  free(wal);
  free(shm);
  unlink(path);
  free(path);
  rmdir(dir);
  free(dir);
}
END_TEST

START_TEST(run_and_transitions_idempotent) {
  hist_store *s = open_mem();
  char err[256] = "";
  int appended = -1;
  /* A first pass, then a replay as after a restart: nothing new. */
  for (int pass = 0; pass < 2; pass++) {
    put_run(s, "u1", "p", "alice", T0);
    ck_assert_int_eq(hist_store_add_transition(s, "u1", "Queued", T0 + 1, "Quota", "waits", &appended, err, sizeof err), 0);
    ck_assert_int_eq(appended, pass == 0);
    /* The same phase seen later (the recorder restarted) is not a transition. */
    ck_assert_int_eq(hist_store_add_transition(s, "u1", "Queued", T0 + 50, "", "", &appended, err, sizeof err), 0);
    ck_assert_int_eq(appended, 0);
  }
  ck_assert_int_eq(hist_store_add_transition(s, "u1", "Running", T0 + 60, "", "", &appended, err, sizeof err), 0);
  ck_assert_int_eq(appended, 1);
  /* Back to an earlier phase is a new transition (a restarted run). */
  ck_assert_int_eq(hist_store_add_transition(s, "u1", "Queued", T0 + 70, "", "", &appended, err, sizeof err), 0);
  ck_assert_int_eq(appended, 1);
  ck_assert_int_eq(hist_store_add_transition(s, "u1", "Queued", T0 + 70, "", "", &appended, err, sizeof err), 0);
  ck_assert_int_eq(appended, 0);
  hist_run fin = {.uid = "u1", .kind = "TrainingJob", .name = "u1", .phase = "Succeeded", .finished_at = T0 + 100};
  ck_assert_int_eq(hist_store_put_run(s, &fin, err, sizeof err), 0);
  ck_assert_int_eq(hist_store_mark_deleted(s, "u1", T0 + 200, err, sizeof err), 0);
  ck_assert_int_eq(hist_store_mark_deleted(s, "u1", T0 + 300, err, sizeof err), 0);

  json_t *r = get_run(s, "u1");
  json_t *tr = json_object_get(r, "transitions");
  ck_assert_int_eq(json_array_size(tr), 3);
  ck_assert_str_eq(json_string_value(json_object_get(json_array_get(tr, 0), "phase")), "Queued");
  ck_assert_str_eq(json_string_value(json_object_get(json_array_get(tr, 0), "reason")), "Quota");
  ck_assert_str_eq(json_string_value(json_object_get(json_array_get(tr, 1), "phase")), "Running");
  ck_assert_str_eq(json_string_value(json_object_get(r, "phase")), "Succeeded");
  /* A later put without project/creator does not erase them. */
  ck_assert_str_eq(json_string_value(json_object_get(r, "project")), "p");
  ck_assert_str_eq(json_string_value(json_object_get(r, "creator")), "alice");
  ck_assert_int_eq(json_integer_value(json_object_get(r, "finishedAt")), T0 + 100);
  ck_assert_int_eq(json_integer_value(json_object_get(r, "deletedAt")), T0 + 200);
  json_decref(r);

  json_t *list = NULL;
  hist_run_filter f = {0};
  ck_assert_int_eq(hist_store_list_runs(s, &f, &list, err, sizeof err), 0);
  ck_assert_int_eq(json_array_size(list), 1);
  json_decref(list);
  ck_assert_int_eq(hist_store_get_run(s, "nope", &r, err, sizeof err), CUBIT_ENOTFOUND);
  ck_assert_int_eq(hist_store_add_transition(s, "u1", "", T0, "", "", NULL, err, sizeof err), CUBIT_EINVAL);
  ck_assert_ptr_nonnull(strstr(err, "phase"));
  hist_store_close(s);
}
END_TEST

START_TEST(intervals_idempotent) {
  hist_store *s = open_mem();
  put_run(s, "u1", "p", "alice", T0);
  put_iv(s, "pod1", "u1", T0 + 10, 0, 1000, "A100");
  put_iv(s, "pod1", "u1", T0 + 10, 0, 1000, "A100");
  put_iv(s, "pod1", "u1", T0 + 10, T0 + 110, 1000, "A100");
  /* A later replay that sees the pod running again (or a later start) never reopens or shrinks it. */
  put_iv(s, "pod1", "u1", T0 + 20, 0, 1000, "A100");
  put_iv(s, "pod1", "u1", T0 + 20, T0 + 500, 1000, "A100");
  json_t *r = get_run(s, "u1");
  json_t *pods = json_object_get(r, "pods");
  ck_assert_int_eq(json_array_size(pods), 1);
  ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(pods, 0), "startedAt")), T0 + 10);
  ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(pods, 0), "endedAt")), T0 + 110);
  json_decref(r);
  char err[256] = "";
  hist_interval bad = {.pod_uid = "", .run_uid = "u1", .started_at = T0};
  ck_assert_int_eq(hist_store_put_interval(s, &bad, err, sizeof err), CUBIT_EINVAL);
  hist_store_close(s);
}
END_TEST

/* ---- interval arithmetic ---------------------------------------------------------------- */

typedef struct {
  const char *name;
  int64_t start, end, from, to, now, want;
} clip_case;

static const clip_case clip_cases[] = {
    {"inside", 100, 200, 0, 1000, 5000, 100},
    {"starts before the window", 100, 200, 150, 1000, 5000, 50},
    {"ends after the window", 100, 200, 0, 150, 5000, 50},
    {"covers the window", 100, 900, 200, 300, 5000, 100},
    {"before the window", 100, 200, 300, 400, 5000, 0},
    {"after the window", 500, 600, 300, 400, 5000, 0},
    {"touching the window's end", 400, 600, 300, 400, 5000, 0},
    {"open, counted up to now", 100, 0, 0, 1000, 250, 150},
    {"open, now beyond the window", 100, 0, 0, 1000, 5000, 900},
    {"open, now before the start (skew)", 100, 0, 0, 1000, 50, 0},
    {"end before start (clock skew)", 200, 100, 0, 1000, 5000, 0},
};

START_TEST(clip_table) {
  const clip_case *c = &clip_cases[_i];
  ck_assert_msg(hist_clip_seconds(c->start, c->end, c->from, c->to, c->now) == c->want, "%s: got %lld, want %lld",
                c->name, (long long)hist_clip_seconds(c->start, c->end, c->from, c->to, c->now), (long long)c->want);
}
END_TEST

/* ---- usage ------------------------------------------------------------------------------ */

/* Two projects; alice's run has two pods (one restarted into a new pod),
 * bob's one spans midnight and is still running; carol's is in project q. */
static hist_store *usage_fixture(void) {
  hist_store *s = open_mem();
  put_run(s, "ra", "p", "alice", T0);
  put_iv(s, "ra-0", "ra", T0 + 3600, T0 + 7200, 2000, "A100");         /* 1 h x 2 cards */
  put_iv(s, "ra-0b", "ra", T0 + 7200, T0 + 10800, 2000, "A100");       /* its replacement: 1 h x 2 */
  put_run(s, "rb", "p", "bob", T0);
  put_iv(s, "rb-0", "rb", T0 + DAY - 1800, 0, 500, "T4");              /* from 23:30, open, half a card */
  put_run(s, "rc", "q", "carol", T0);
  put_iv(s, "rc-0", "rc", T0, T0 + DAY, 1000, "A100");
  return s;
}

typedef struct {
  const char *name;
  hist_group by;
  const char *project; /* NULL = all */
  int64_t from, to, now;
  size_t nrows;
  struct {
    const char *key;
    int64_t gpu_ms, runs;
  } rows[4];
} usage_case;

static const usage_case usage_cases[] = {
    {"by member in p, bob up to now",
     HIST_BY_MEMBER, "p", T0, T0 + 2 * DAY, T0 + DAY + 1800, 2,
     {{"alice", 2 * 7200 * 1000, 1}, {"bob", 3600 * 500, 1}}},
    {"by GPU model over both projects",
     HIST_BY_GPU_MODEL, NULL, T0, T0 + 2 * DAY, T0 + DAY + 1800, 2,
     {{"A100", (int64_t)2 * 7200 * 1000 + (int64_t)DAY * 1000, 2}, {"T4", 3600 * 500, 1}}},
    {"by day in p: bob's pod split at midnight",
     HIST_BY_DAY, "p", T0, T0 + 2 * DAY, T0 + DAY + 1800, 2,
     {{"2026-12-01", 2 * 7200 * 1000 + 1800 * 500, 2}, {"2026-12-02", 1800 * 500, 1}}},
    {"window clipped to 02:30-03:00",
     HIST_BY_PROJECT, NULL, T0 + 9000, T0 + 10800, T0 + DAY + 1800, 2,
     {{"p", 1800 * 2000, 1}, {"q", 1800 * 1000, 1}}},
    {"window after everything ended, bob's still open",
     HIST_BY_MEMBER, NULL, T0 + DAY + 60, T0 + DAY + 120, T0 + DAY + 1800, 1,
     {{"bob", 60 * 500, 1}}},
    {"window before anything ran", HIST_BY_PROJECT, NULL, T0 - DAY, T0, T0 + DAY, 0, {{0}}},
    {"by ISO week (from Monday 2026-11-30) in p",
     HIST_BY_WEEK, "p", T0, T0 + 2 * DAY, T0 + DAY + 1800, 1,
     {{"2026-W49", 2 * 7200 * 1000 + 3600 * 500, 2}}},
    {"by week: bob's open pod split at Monday 2026-12-07",
     HIST_BY_WEEK, "p", T0 + 5 * DAY, T0 + 7 * DAY, T0 + 6 * DAY + 3600, 2,
     {{"2026-W49", (int64_t)DAY * 500, 1}, {"2026-W50", 3600 * 500, 1}}},
    {"by month: bob's open pod split at 2027-01-01",
     HIST_BY_MONTH, "p", T0 + 29 * DAY, T0 + 32 * DAY, T0 + 31 * DAY + 3600, 2,
     {{"2026-12", (int64_t)2 * DAY * 500, 1}, {"2027-01", 3600 * 500, 1}}},
};

START_TEST(usage_table) {
  const usage_case *c = &usage_cases[_i];
  hist_store *s = usage_fixture();
  const char *projects[] = {c->project};
  hist_usage_row *rows = NULL;
  size_t n = 0;
  char err[256] = "";
  ck_assert_msg(hist_store_usage(s, c->project ? projects : NULL, c->project ? 1 : 0, c->by, c->from, c->to, c->now,
                                 &rows, &n, err, sizeof err) == 0,
                "%s: %s", c->name, err);
  ck_assert_msg(n == c->nrows, "%s: %zu rows, want %zu", c->name, n, c->nrows);
  for (size_t i = 0; i < n; i++) {
    ck_assert_msg(strcmp(rows[i].key, c->rows[i].key) == 0, "%s: row %zu is %s, want %s", c->name, i, rows[i].key,
                  c->rows[i].key);
    ck_assert_msg(rows[i].gpu_milli_seconds == c->rows[i].gpu_ms, "%s: %s gpu %lld, want %lld", c->name, rows[i].key,
                  (long long)rows[i].gpu_milli_seconds, (long long)c->rows[i].gpu_ms);
    ck_assert_msg(rows[i].runs == c->rows[i].runs, "%s: %s runs %lld, want %lld", c->name, rows[i].key,
                  (long long)rows[i].runs, (long long)c->rows[i].runs);
  }
  free(rows);
  hist_store_close(s);
}
END_TEST

START_TEST(usage_rejects_empty_window_and_unknown_project) {
  hist_store *s = usage_fixture();
  hist_usage_row *rows = NULL;
  size_t n = 7;
  char err[256] = "";
  ck_assert_int_eq(hist_store_usage(s, NULL, 0, HIST_BY_DAY, T0, T0, T0, &rows, &n, err, sizeof err), CUBIT_EINVAL);
  ck_assert_ptr_nonnull(strstr(err, "window"));
  const char *none[] = {"nobody"};
  ck_assert_int_eq(hist_store_usage(s, none, 1, HIST_BY_DAY, T0, T0 + DAY, T0 + DAY, &rows, &n, err, sizeof err), 0);
  ck_assert_uint_eq(n, 0);
  free(rows);
  /* An empty (non-NULL) project list is "no project", never "all". */
  ck_assert_int_eq(hist_store_usage(s, none, 0, HIST_BY_DAY, T0, T0 + DAY, T0 + DAY, &rows, &n, err, sizeof err), 0);
  ck_assert_uint_eq(n, 0);
  free(rows);
  hist_store_close(s);
}
END_TEST

/* ---- interval edges: overlaps, skew, the window's edges -------------------------------- */

static void put_finished(hist_store *s, const char *uid, int64_t created, int64_t finished) {
  char err[256] = "";
  hist_run r = {.uid = uid, .kind = "TrainingJob", .ns = "e", .name = uid, .project = "e", .creator = "erin",
                .phase = "Succeeded", .created_at = created, .finished_at = finished};
  ck_assert_msg(hist_store_put_run(s, &r, err, sizeof err) == 0, "put_run: %s", err);
}

static hist_store *edge_fixture(void) {
  hist_store *s = open_mem();
  put_finished(s, "ov", T0, T0 + 150);
  put_iv(s, "ov-0", "ov", T0, T0 + 100, 1000, "A100");      /* two pods of one run overlap: both hold cards */
  put_iv(s, "ov-1", "ov", T0 + 50, T0 + 150, 1000, "A100");
  put_finished(s, "sk", T0 + 800, T0 + 1000);
  put_iv(s, "sk-0", "sk", T0 + 900, T0 + 1030, 1000, "A100"); /* its node's clock: ends after the run did */
  put_finished(s, "old", T0 - 4 * DAY, T0 - 3 * DAY);
  put_iv(s, "old-0", "old", T0 - 3 * DAY - 100, T0 - 3 * DAY, 1000, "A100");
  put_run(s, "mid", "e", "erin", T0 + DAY - 10);
  put_iv(s, "mid-0", "mid", T0 + DAY, T0 + DAY + 60, 1000, "A100"); /* starts on the stroke of midnight */
  return s;
}

static const usage_case edge_cases[] = {
    {"an interval ending on the window's start counts nothing; the overlapping one its part",
     HIST_BY_PROJECT, "e", T0 + 100, T0 + 150, T0 + 2 * DAY, 1, {{"e", 50 * 1000, 1}}},
    {"overlapping pods of one run both count, the run once",
     HIST_BY_MEMBER, "e", T0, T0 + 200, T0 + 2 * DAY, 1, {{"erin", 200 * 1000, 1}}},
    {"a pod ending after its run (skew) counts to its own end",
     HIST_BY_PROJECT, "e", T0 + 1010, T0 + 2000, T0 + 2 * DAY, 1, {{"e", 20 * 1000, 1}}},
    {"starting on midnight: the new day only",
     HIST_BY_DAY, "e", T0 + DAY, T0 + DAY + 30, T0 + 2 * DAY, 1, {{"2026-12-02", 30 * 1000, 1}}},
    {"starting at the window's end counts nothing",
     HIST_BY_DAY, "e", T0, T0 + DAY, T0 + 2 * DAY, 1, {{"2026-12-01", (200 + 130) * 1000, 2}}},
    {"a window days before now finds runs long over",
     HIST_BY_PROJECT, "e", T0 - 4 * DAY, T0, T0 + 2 * DAY, 1, {{"e", 100 * 1000, 1}}},
    {"a window not aligned to midnight splits at midnight",
     HIST_BY_DAY, "e", T0 + DAY - 100, T0 + DAY + 10, T0 + 2 * DAY, 1, {{"2026-12-02", 10 * 1000, 1}}},
};

START_TEST(usage_edges) {
  const usage_case *c = &edge_cases[_i];
  hist_store *s = edge_fixture();
  const char *projects[] = {c->project};
  hist_usage_row *rows = NULL;
  size_t n = 0;
  char err[256] = "";
  ck_assert_msg(hist_store_usage(s, projects, 1, c->by, c->from, c->to, c->now, &rows, &n, err, sizeof err) == 0,
                "%s: %s", c->name, err);
  ck_assert_msg(n == c->nrows, "%s: %zu rows, want %zu", c->name, n, c->nrows);
  for (size_t i = 0; i < n; i++) {
    ck_assert_msg(strcmp(rows[i].key, c->rows[i].key) == 0, "%s: row %zu is %s", c->name, i, rows[i].key);
    ck_assert_msg(rows[i].gpu_milli_seconds == c->rows[i].gpu_ms, "%s: gpu %lld, want %lld", c->name,
                  (long long)rows[i].gpu_milli_seconds, (long long)c->rows[i].gpu_ms);
    ck_assert_msg(rows[i].runs == c->rows[i].runs, "%s: runs %lld", c->name, (long long)rows[i].runs);
  }
  free(rows);
  hist_store_close(s);
}
END_TEST

/* Removes the database at path (with its WAL side files) and its directory; frees both. */
static void remove_db(char *dir, char *path) {
  static const char *const sides[] = {"-wal", "-shm"};
  for (size_t i = 0; i < 2; i++) {
    char *side = NULL;
    if (asprintf(&side, "%s%s", path, sides[i]) >= 0) unlink(side);
    free(side);
  }
  unlink(path);
  free(path);
  rmdir(dir);
  free(dir);
}

/* ---- labels ----------------------------------------------------------------------------- */

static void put_labeled(hist_store *s, const char *uid, const char *labels_json) {
  char err[256] = "";
  json_t *labels = labels_json ? json_loads(labels_json, 0, NULL) : NULL;
  hist_run r = {.uid = uid, .kind = "TrainingJob", .ns = "ns", .name = uid, .project = "p", .created_at = T0,
                .labels_known = 1, .labels = labels};
  ck_assert_msg(hist_store_put_run(s, &r, err, sizeof err) == 0, "%s", err);
  json_decref(labels);
}

typedef struct {
  const char *name;
  hist_label_sel sels[3];
  size_t n;
  const char *want; /* the uids, newest first (all created at T0: by uid) */
} label_case;

static const label_case label_cases[] = {
    {"name=value", {{HIST_LABEL_EQ, "team", "nlp"}}, 1, "a,c"},
    {"name!=value matches runs without the label too", {{HIST_LABEL_NE, "team", "nlp"}}, 1, "b,d"},
    {"name exists", {{HIST_LABEL_EXISTS, "team", ""}}, 1, "a,b,c"},
    {"!name", {{HIST_LABEL_NOT_EXISTS, "team", ""}}, 1, "d"},
    {"all must hold", {{HIST_LABEL_EQ, "team", "nlp"}, {HIST_LABEL_EQ, "app.kubernetes.io/part-of", "bert"}}, 2, "c"},
    {"none holds", {{HIST_LABEL_EQ, "team", "nlp"}, {HIST_LABEL_NOT_EXISTS, "team", ""}}, 2, ""},
    {"a label the run lost", {{HIST_LABEL_EQ, "stale", "x"}}, 1, ""},
};

START_TEST(label_filters) {
  const label_case *c = &label_cases[_i];
  hist_store *s = open_mem();
  put_labeled(s, "a", "{\"team\": \"nlp\"}");
  put_labeled(s, "b", "{\"team\": \"cv\"}");
  put_labeled(s, "c", "{\"team\": \"nlp\", \"app.kubernetes.io/part-of\": \"bert\"}");
  put_labeled(s, "d", "{\"stale\": \"x\"}");
  put_labeled(s, "d", NULL); /* it lost its labels */
  put_labeled(s, "c", "{\"team\": \"nlp\", \"app.kubernetes.io/part-of\": \"bert\"}"); /* a replay */
  hist_run keep = {.uid = "a", .kind = "TrainingJob", .ns = "ns", .name = "a", .created_at = T0}; /* labels unknown: kept */
  char err[256] = "";
  ck_assert_int_eq(hist_store_put_run(s, &keep, err, sizeof err), 0);
  hist_run_filter f = {.labels = c->sels, .nlabels = c->n, .limit = 10};
  json_t *runs = NULL;
  ck_assert_msg(hist_store_list_runs(s, &f, &runs, err, sizeof err) == 0, "%s", err);
  char got[64] = "";
  size_t i;
  json_t *r;
  json_array_foreach(runs, i, r) {
    size_t len = strlen(got);
    snprintf(got + len, sizeof got - len, "%s%s", i ? "," : "", js_str(r, "uid"));
  }
  ck_assert_msg(strcmp(got, c->want) == 0, "%s: got %s, want %s", c->name, got, c->want);
  json_decref(runs);
  json_t *one = get_run(s, "c");
  ck_assert_str_eq(js_str(json_object_get(one, "labels"), "team"), "nlp");
  ck_assert_uint_eq(json_object_size(json_object_get(one, "labels")), 2);
  json_decref(one);
  one = get_run(s, "d");
  ck_assert_uint_eq(json_object_size(json_object_get(one, "labels")), 0);
  json_decref(one);
  hist_store_close(s);
}
END_TEST

/* At most HIST_MAX_RUN_LABELS labels are kept; over-long ones are not. */
START_TEST(labels_bounded) {
  hist_store *s = open_mem();
  json_t *labels = json_object();
  for (int i = 0; i < 100; i++) {
    char name[16];
    snprintf(name, sizeof name, "l%03d", i);
    json_object_set_new(labels, name, json_string("v"));
  }
  char longv[80];
  memset(longv, 'x', sizeof longv - 1);
  longv[sizeof longv - 1] = '\0';
  json_t *few = json_pack("{s:s, s:s}", "ok", "v", "long", longv);
  char err[256] = "";
  hist_run r = {.uid = "a", .kind = "TrainingJob", .ns = "ns", .name = "a", .created_at = T0, .labels_known = 1,
                .labels = labels};
  ck_assert_int_eq(hist_store_put_run(s, &r, err, sizeof err), 0);
  json_t *one = get_run(s, "a");
  ck_assert_uint_eq(json_object_size(json_object_get(one, "labels")), HIST_MAX_RUN_LABELS);
  json_decref(one);
  r.labels = few;
  ck_assert_int_eq(hist_store_put_run(s, &r, err, sizeof err), 0);
  one = get_run(s, "a");
  ck_assert_uint_eq(json_object_size(json_object_get(one, "labels")), 1);
  json_decref(one);
  /* pruning a run takes its labels too (r still points at few: released after) */
  r.finished_at = T0 + 1;
  ck_assert_int_eq(hist_store_put_run(s, &r, err, sizeof err), 0);
  int n = 0;
  ck_assert_int_eq(hist_store_prune(s, T0 + DAY, 0, 10, &n, err, sizeof err), 0);
  ck_assert_int_eq(n, 1);
  hist_store_close(s);
  json_decref(labels);
  json_decref(few);
}
END_TEST

/* ---- roll-ups --------------------------------------------------------------------------- */

static uint64_t rnd(uint64_t *x) {
  *x ^= *x << 13;
  *x ^= *x >> 7;
  *x ^= *x << 17;
  return *x;
}

/* Random runs as the recorder writes them: several pods per run (restarts
 * and overlaps), GPU models mixed in a run, intervals crossing midnight
 * and lasting days, pods still running, ends before starts (clock skew),
 * replays and widened replays, a project learned late, runs closed by
 * their end or their deletion. */
static void random_runs(hist_store *s, uint64_t seed, int nruns) {
  static const char *const projects[] = {"p0", "p1", "p2"};
  static const char *const users[] = {"ann", "bob", "cy"};
  static const char *const models[] = {"A100", "V100", ""};
  static const int64_t gpus[] = {0, 500, 1000, 2000};
  char err[256] = "";
  for (int i = 0; i < nruns; i++) {
    char uid[16], name[16];
    snprintf(uid, sizeof uid, "r%03d", i);
    snprintf(name, sizeof name, "job%03d", i);
    const char *project = projects[rnd(&seed) % 3];
    int late = rnd(&seed) % 5 == 0;
    int64_t created = T0 - 10 * DAY + (int64_t)(rnd(&seed) % (12 * DAY));
    hist_run r = {.uid = uid, .kind = "TrainingJob", .ns = project, .name = name, .project = late ? "" : project,
                  .creator = late ? "" : users[rnd(&seed) % 3], .phase = "Running", .created_at = created};
    ck_assert_int_eq(hist_store_put_run(s, &r, err, sizeof err), 0);
    ck_assert_int_eq(hist_store_add_transition(s, uid, "Running", created, "", "", NULL, err, sizeof err), 0);
    int pods = 1 + (int)(rnd(&seed) % 3);
    int64_t last_end = created; /* a run ends after its pods (the raw query's premise) */
    for (int k = 0; k < pods; k++) {
      char pod[24];
      snprintf(pod, sizeof pod, "%.15s-%d", uid, k % 10);
      int64_t start = created + (int64_t)(rnd(&seed) % (3 * DAY));
      int64_t len = rnd(&seed) % 4 == 0 ? (int64_t)(rnd(&seed) % (3 * DAY)) : (int64_t)(rnd(&seed) % 7200);
      int64_t end = rnd(&seed) % 6 == 0 ? 0 : rnd(&seed) % 25 == 0 ? start - 30 : start + len;
      if (rnd(&seed) % 10 == 0) start = hist_day_of(start) + DAY, end = end ? start + len : 0; /* on midnight */
      hist_interval iv = {.pod_uid = pod, .run_uid = uid, .pod_name = pod, .started_at = start, .ended_at = end,
                          .cpu_milli = rnd(&seed) % 2 ? 1000 : 0, .gpu_milli = gpus[rnd(&seed) % 4],
                          .gpu_model = models[rnd(&seed) % 3]};
      ck_assert_int_eq(hist_store_put_interval(s, &iv, err, sizeof err), 0);
      if (rnd(&seed) % 3 == 0) ck_assert_int_eq(hist_store_put_interval(s, &iv, err, sizeof err), 0); /* replay */
      if (rnd(&seed) % 5 == 0) { /* seen again earlier, now with its end */
        iv.started_at -= 600;
        if (iv.ended_at == 0) iv.ended_at = start + 900;
        ck_assert_int_eq(hist_store_put_interval(s, &iv, err, sizeof err), 0);
      }
      if (iv.ended_at > last_end) last_end = iv.ended_at;
    }
    if (late) { /* the project and creator become known */
      r.project = project;
      r.creator = users[rnd(&seed) % 3];
      ck_assert_int_eq(hist_store_put_run(s, &r, err, sizeof err), 0);
    }
    switch (rnd(&seed) % 4) {
    case 0: /* finished: its open pods end then */
      r.finished_at = last_end + 3600;
      r.phase = "Succeeded";
      ck_assert_int_eq(hist_store_put_run(s, &r, err, sizeof err), 0);
      ck_assert_int_eq(hist_store_add_transition(s, uid, "Succeeded", r.finished_at, "", "", NULL, err, sizeof err), 0);
      ck_assert_int_eq(hist_store_close_intervals(s, uid, r.finished_at, err, sizeof err), 0);
      ck_assert_int_eq(hist_store_put_run(s, &r, err, sizeof err), 0); /* replay */
      break;
    case 1: /* deleted while the recorder was away */
      ck_assert_int_eq(hist_store_mark_gone(s, "TrainingJob", project, name, last_end + 60, err, sizeof err), 0);
      break;
    default: break; /* still going */
    }
  }
}

static void assert_same_usage(hist_store *s, const char *const *projects, size_t np, hist_group by, int64_t from,
                              int64_t to, int64_t now) {
  char err[256] = "";
  hist_usage_row *a = NULL, *b = NULL;
  size_t na = 0, nb = 0;
  ck_assert_msg(hist_store_usage(s, projects, np, by, from, to, now, &a, &na, err, sizeof err) == 0, "%s", err);
  ck_assert_msg(hist__store_usage_raw(s, projects, np, by, from, to, now, &b, &nb, err, sizeof err) == 0, "%s", err);
  ck_assert_msg(na == nb, "by %d [%lld, %lld): %zu rows from the roll-ups, %zu raw", (int)by, (long long)from,
                (long long)to, na, nb);
  for (size_t i = 0; i < na; i++) {
    ck_assert_str_eq(a[i].key, b[i].key);
    ck_assert_msg(a[i].gpu_milli_seconds == b[i].gpu_milli_seconds && a[i].cpu_milli_seconds == b[i].cpu_milli_seconds &&
                      a[i].runs == b[i].runs,
                  "by %d [%lld, %lld) %s: roll-ups %lld/%lld/%lld, raw %lld/%lld/%lld", (int)by, (long long)from,
                  (long long)to, a[i].key, (long long)a[i].gpu_milli_seconds, (long long)a[i].cpu_milli_seconds,
                  (long long)a[i].runs, (long long)b[i].gpu_milli_seconds, (long long)b[i].cpu_milli_seconds,
                  (long long)b[i].runs);
  }
  free(a);
  free(b);
}

/* The roll-up answer equals the raw one for every grouping, for windows
 * on and off midnight, one day or less, and across the data's edges. */
START_TEST(rollup_equals_raw) {
  hist_store *s = open_mem();
  uint64_t seed = 0x5eed + (uint64_t)_i * 7919;
  random_runs(s, seed, 150);
  static const hist_group groups[] = {HIST_BY_DAY, HIST_BY_WEEK, HIST_BY_MONTH, HIST_BY_MEMBER, HIST_BY_GPU_MODEL,
                                      HIST_BY_PROJECT};
  const char *one[] = {"p1"}, *two[] = {"p0", "p2"};
  int64_t now = T0 + 2 * DAY + 3600;
  for (int w = 0; w < 40; w++) {
    int64_t from = T0 - 12 * DAY + (int64_t)(rnd(&seed) % (16 * DAY));
    if (w % 4 == 0) from = hist_day_of(from);
    int64_t to = from + 1 + (int64_t)(rnd(&seed) % (w % 3 == 0 ? DAY : 14 * DAY));
    if (w % 5 == 0) to = hist_day_of(to) + DAY;
    for (size_t g = 0; g < N(groups); g++) {
      assert_same_usage(s, NULL, 0, groups[g], from, to, now);
      assert_same_usage(s, one, 1, groups[g], from, to, now);
      assert_same_usage(s, two, 2, groups[g], from, to, now);
    }
  }
  hist_store_close(s);
}
END_TEST

/* The roll-ups are derivable from the raw rows: what the writes left
 * equals what the migration from version 3 builds from the same rows;
 * the migration keeps the answers. */
START_TEST(rollup_rebuilt_by_migration) {
  char *dir = testutil_tmpdir();
  char *path = testutil_write_file(dir, "h.db", "");
  char err[256] = "";
  hist_store *s = NULL;
  ck_assert_msg(hist_store_open(path, &s, err, sizeof err) == 0, "%s", err);
  random_runs(s, 0xfeed, 120);
  hist_store_close(s);
  raw_exec(path, "CREATE TABLE kept_days AS SELECT * FROM usage_days WHERE gpu_milli_seconds <> 0"
                 " OR cpu_milli_seconds <> 0 OR runs_any <> 0 OR runs_model <> 0;"
                 "CREATE TABLE kept_run_days AS SELECT * FROM usage_run_days;"
                 "CREATE TABLE kept_totals AS SELECT * FROM usage_totals WHERE gpu_milli_seconds <> 0"
                 " OR cpu_milli_seconds <> 0;"
                 "CREATE TABLE kept_phases AS SELECT * FROM phase_counts;"
                 "DROP TABLE usage_days; DROP TABLE usage_run_days; DROP TABLE pruned_runs; DROP TABLE run_labels;"
                 "DROP TABLE usage_totals; DROP TABLE phase_counts;"
                 "DROP INDEX pod_intervals_open; UPDATE schema_version SET version = 3;");
  ck_assert_msg(hist_store_open(path, &s, err, sizeof err) == 0, "%s", err);
  ck_assert_int_eq(hist_store_version(s), HIST_SCHEMA_VERSION);
  ck_assert_int_gt(raw_count(path, "SELECT COUNT(*) FROM kept_days"), 100);
  ck_assert_int_eq(raw_count(path, "SELECT COUNT(*) FROM (SELECT * FROM kept_days EXCEPT SELECT * FROM usage_days)"), 0);
  ck_assert_int_eq(raw_count(path, "SELECT COUNT(*) FROM (SELECT * FROM usage_days EXCEPT SELECT * FROM kept_days)"), 0);
  ck_assert_int_eq(
      raw_count(path, "SELECT COUNT(*) FROM (SELECT * FROM kept_run_days EXCEPT SELECT * FROM usage_run_days)"), 0);
  ck_assert_int_eq(
      raw_count(path, "SELECT COUNT(*) FROM (SELECT * FROM usage_run_days EXCEPT SELECT * FROM kept_run_days)"), 0);
  ck_assert_int_gt(raw_count(path, "SELECT COUNT(*) FROM kept_phases"), 3);
  static const char *const same[] = {
      "SELECT COUNT(*) FROM (SELECT * FROM kept_totals EXCEPT SELECT * FROM usage_totals)",
      ("SELECT COUNT(*) FROM (SELECT * FROM usage_totals WHERE gpu_milli_seconds <> 0 OR cpu_milli_seconds <> 0"
       " EXCEPT SELECT * FROM kept_totals)"),
      "SELECT COUNT(*) FROM (SELECT * FROM kept_phases EXCEPT SELECT * FROM phase_counts)",
      "SELECT COUNT(*) FROM (SELECT * FROM phase_counts EXCEPT SELECT * FROM kept_phases)"};
  for (size_t i = 0; i < N(same); i++) ck_assert_msg(raw_count(path, same[i]) == 0, "%s", same[i]);
  assert_same_usage(s, NULL, 0, HIST_BY_MEMBER, T0 - 9 * DAY - 5, T0 + 3 * DAY + 7, T0 + 4 * DAY);
  hist_store_close(s);
  remove_db(dir, path);
}
END_TEST

/* ---- Prometheus counters ------------------------------------------------------------------ */

/* The exposition of the usage counters after a sync of a fresh registry. */
static char *exposition(hist_store *s) {
  metrics_registry *reg = metrics_registry_new();
  char err[256] = "";
  ck_assert_msg(hist_store_sync_metrics(s, reg, err, sizeof err) == 0, "%s", err);
  ck_assert_msg(hist_store_sync_metrics(s, reg, err, sizeof err) == 0, "%s", err); /* twice: adds nothing */
  cubit_buf out;
  buf_init(&out, 1 << 20);
  ck_assert_int_eq(metrics_write(reg, &out), 0);
  char *text = buf_detach(&out);
  metrics_registry_free(reg);
  return text;
}

static void counters_fixture(hist_store *s) {
  char err[256] = "";
  hist_run r = {.uid = "m1", .kind = "TrainingJob", .ns = "ns", .name = "m1", .project = "vision", .creator = "ann",
                .phase = "Running", .created_at = T0};
  ck_assert_int_eq(hist_store_put_run(s, &r, err, sizeof err), 0);
  ck_assert_int_eq(hist_store_add_transition(s, "m1", "Running", T0 + 10, "", "", NULL, err, sizeof err), 0);
  put_iv(s, "m1-a", "m1", T0 + 10, T0 + 3610, 2000, "A100"); /* 2 cards, 1 h, cpu 1 core */
  put_iv(s, "m1-b", "m1", T0 + 100, 0, 1000, "A100");         /* still running */
  hist_run q = {.uid = "m2", .kind = "Notebook", .ns = "ns", .name = "m2", .project = "", .phase = "Running",
                .created_at = T0};
  ck_assert_int_eq(hist_store_put_run(s, &q, err, sizeof err), 0);
  ck_assert_int_eq(hist_store_add_transition(s, "m2", "Running", T0, "", "", NULL, err, sizeof err), 0);
  put_iv(s, "m2-a", "m2", T0, T0 + 1800, 500, "T4");
}

START_TEST(usage_counters) {
  char *dir = testutil_tmpdir();
  char *path = testutil_write_file(dir, "h.db", "");
  char err[256] = "";
  hist_store *s = NULL;
  ck_assert_msg(hist_store_open(path, &s, err, sizeof err) == 0, "%s", err);
  counters_fixture(s);
  char *text = exposition(s);
  ck_assert_msg(strstr(text, "# TYPE cubit_project_gpu_seconds_total counter") != NULL, "%s", text);
  /* m1 has a pod still running: its time is not final, not counted yet */
  ck_assert_msg(strstr(text, "cubit_project_gpu_seconds_total{") == NULL, "%s", text);
  ck_assert_msg(strstr(text, "cubit_project_runs_total{project=\"vision\",kind=\"TrainingJob\",phase=\"Running\"} 1\n"),
                "%s", text);
  /* a run without a project is not counted yet */
  ck_assert_msg(strstr(text, "T4") == NULL && strstr(text, "Notebook") == NULL, "%s", text);
  free(text);

  /* replays change nothing; the open pod ends; m2's project becomes known */
  counters_fixture(s);
  put_iv(s, "m1-b", "m1", T0 + 100, T0 + 1900, 1000, "A100");
  hist_run learned = {.uid = "m2", .kind = "Notebook", .ns = "ns", .name = "m2", .project = "vision", .created_at = T0};
  ck_assert_int_eq(hist_store_put_run(s, &learned, err, sizeof err), 0);
  hist_run done = {.uid = "m1", .kind = "TrainingJob", .ns = "ns", .name = "m1", .phase = "Succeeded",
                   .created_at = T0, .finished_at = T0 + 4000};
  ck_assert_int_eq(hist_store_put_run(s, &done, err, sizeof err), 0);
  ck_assert_int_eq(hist_store_add_transition(s, "m1", "Succeeded", T0 + 4000, "", "", NULL, err, sizeof err), 0);
  ck_assert_int_eq(hist_store_add_transition(s, "m1", "Succeeded", T0 + 4000, "", "", NULL, err, sizeof err), 0);
  hist_store_close(s);

  /* a restarted recorder starts where the database is; retention takes nothing from the counters */
  ck_assert_msg(hist_store_open(path, &s, err, sizeof err) == 0, "%s", err);
  ck_assert_int_eq(hist_store_mark_deleted(s, "m1", T0 + 4100, err, sizeof err), 0);
  int n = 0;
  ck_assert_int_eq(hist_store_prune(s, T0 + 5000, 0, 10, &n, err, sizeof err), 0);
  ck_assert_int_eq(n, 1);
  text = exposition(s);
  ck_assert_msg(strstr(text, "cubit_project_gpu_seconds_total{project=\"vision\",gpu_model=\"A100\"} 9000\n"), "%s",
                text);
  ck_assert_msg(strstr(text, "cubit_project_gpu_seconds_total{project=\"vision\",gpu_model=\"T4\"} 900\n"), "%s", text);
  ck_assert_msg(strstr(text, "cubit_project_cpu_seconds_total{project=\"vision\"} 7200\n"), "%s", text);
  ck_assert_msg(strstr(text, "cubit_project_runs_total{project=\"vision\",kind=\"TrainingJob\",phase=\"Running\"} 1\n"),
                "%s", text);
  ck_assert_msg(strstr(text, "cubit_project_runs_total{project=\"vision\",kind=\"TrainingJob\",phase=\"Succeeded\"} 1\n"),
                "%s", text);
  ck_assert_msg(strstr(text, "cubit_project_runs_total{project=\"vision\",kind=\"Notebook\",phase=\"Running\"} 1\n"),
                "%s", text);
  free(text);
  hist_store_close(s);
  remove_db(dir, path);
}
END_TEST

/* ---- retention -------------------------------------------------------------------------- */

static int count_runs(hist_store *s) {
  json_t *r = NULL;
  char err[256] = "";
  hist_run_filter f = {.limit = 1000};
  ck_assert_int_eq(hist_store_list_runs(s, &f, &r, err, sizeof err), 0);
  int n = (int)json_array_size(r);
  json_decref(r);
  return n;
}

START_TEST(prune_by_age_in_batches) {
  hist_store *s = open_mem();
  char err[256] = "";
  for (int i = 0; i < 5; i++) {
    char uid[16];
    snprintf(uid, sizeof uid, "old%d", i);
    put_finished(s, uid, T0 - 10 * DAY + i, T0 - 9 * DAY);
    put_iv(s, uid, uid, T0 - 10 * DAY + i, T0 - 9 * DAY, 1000, "A100");
    ck_assert_int_eq(hist_store_add_transition(s, uid, "Succeeded", T0 - 9 * DAY, "", "", NULL, err, sizeof err), 0);
  }
  put_run(s, "live", "e", "erin", T0 - 20 * DAY); /* old but never ended: kept */
  put_finished(s, "recent", T0 - 10 * DAY, T0 - DAY); /* created long ago, ended inside retention: kept */
  hist_run deleted = {.uid = "gone", .kind = "Notebook", .ns = "e", .name = "nb", .created_at = T0 - 30 * DAY};
  ck_assert_int_eq(hist_store_put_run(s, &deleted, err, sizeof err), 0);
  ck_assert_int_eq(hist_store_mark_deleted(s, "gone", T0 - 8 * DAY, err, sizeof err), 0);
  int n = -1;
  ck_assert_int_eq(hist_store_prune(s, T0 - 7 * DAY, 0, 2, &n, err, sizeof err), 0);
  ck_assert_int_eq(n, 2); /* a batch at most */
  ck_assert_int_eq(count_runs(s), 6);
  ck_assert_int_eq(hist_store_prune(s, T0 - 7 * DAY, 0, 100, &n, err, sizeof err), 0);
  ck_assert_int_eq(n, 4); /* the other three and the deleted notebook */
  ck_assert_int_eq(hist_store_prune(s, T0 - 7 * DAY, 0, 100, &n, err, sizeof err), 0);
  ck_assert_int_eq(n, 0);
  json_t *r = NULL;
  ck_assert_int_eq(hist_store_get_run(s, "old0", &r, err, sizeof err), CUBIT_ENOTFOUND);
  r = get_run(s, "live");
  json_decref(r);
  r = get_run(s, "recent");
  json_decref(r);
  /* their intervals went with them, their whole days stay in the roll-ups
   * (billing outlives retention): 5 runs of about a day on one A100 */
  hist_usage_row *rows = NULL;
  size_t nrows = 9;
  ck_assert_int_eq(hist__store_usage_raw(s, NULL, 0, HIST_BY_PROJECT, T0 - 11 * DAY, T0 - 8 * DAY, T0, &rows, &nrows,
                                         err, sizeof err),
                   0);
  ck_assert_uint_eq(nrows, 0);
  free(rows);
  ck_assert_int_eq(hist_store_usage(s, NULL, 0, HIST_BY_PROJECT, T0 - 11 * DAY, T0 - 8 * DAY, T0, &rows, &nrows, err,
                                    sizeof err),
                   0);
  ck_assert_uint_eq(nrows, 1);
  ck_assert_int_eq(rows[0].gpu_milli_seconds, (5 * DAY - (0 + 1 + 2 + 3 + 4)) * 1000);
  ck_assert_int_eq(rows[0].runs, 5);
  free(rows);
  /* a pruned run whose object still exists is not recorded again (no
   * second count), until the recorder sees its object deleted */
  put_finished(s, "old0", T0 - 10 * DAY, T0 - 9 * DAY);
  put_iv(s, "old0", "old0", T0 - 10 * DAY, T0 - 9 * DAY, 1000, "A100");
  ck_assert_int_eq(hist_store_get_run(s, "old0", &r, err, sizeof err), CUBIT_ENOTFOUND);
  ck_assert_int_eq(hist_store_usage(s, NULL, 0, HIST_BY_PROJECT, T0 - 11 * DAY, T0 - 8 * DAY, T0, &rows, &nrows, err,
                                    sizeof err),
                   0);
  ck_assert_int_eq(rows[0].runs, 5);
  free(rows);
  ck_assert_int_eq(hist_store_mark_deleted(s, "old0", T0, err, sizeof err), 0);
  /* maxRuns: the oldest ended runs over the count go, live ones stay */
  put_finished(s, "a", T0 - 5, T0 - 4);
  put_finished(s, "b", T0 - 3, T0 - 2);
  ck_assert_int_eq(hist_store_prune(s, 0, 2, 100, &n, err, sizeof err), 0);
  ck_assert_int_eq(n, 2); /* recent and a; live (never ended) and b stay */
  ck_assert_int_eq(count_runs(s), 2);
  r = get_run(s, "b");
  json_decref(r);
  ck_assert_int_eq(hist_store_prune(s, 0, 2, 0, &n, err, sizeof err), CUBIT_EINVAL);
  hist_store_close(s);
}
END_TEST

/* Under retention the file stops growing: pages freed by pruning are
 * reused by new runs, no VACUUM. 10 simulated days of 250 runs each, 3 days
 * kept: from day 5 on the size stays within 5% of day 5's. */
START_TEST(size_flat_under_retention) {
  char *dir = testutil_tmpdir();
  char *path = NULL;
  if (asprintf(&path, "%s/h.db", dir) < 0) ck_abort();
  char err[256] = "";
  hist_store *s = NULL;
  ck_assert_msg(hist_store_open(path, &s, err, sizeof err) == 0, "%s", err);
  int64_t day0 = 0, day5 = 0, most = 0;
  for (int day = 0; day < 10; day++) {
    int64_t t = T0 + (int64_t)day * DAY;
    for (int i = 0; i < 250; i++) {
      char uid[32], pod[40];
      snprintf(uid, sizeof uid, "d%02d-r%03d", day, i);
      snprintf(pod, sizeof pod, "%s-pod", uid);
      put_finished(s, uid, t + i * 60, t + i * 60 + 600);
      ck_assert_int_eq(hist_store_add_transition(s, uid, "Running", t + i * 60, "", "", NULL, err, sizeof err), 0);
      ck_assert_int_eq(hist_store_add_transition(s, uid, "Succeeded", t + i * 60 + 600, "Succeeded", "done", NULL, err, sizeof err), 0);
      put_iv(s, pod, uid, t + i * 60, t + i * 60 + 600, 1000, "A100");
      /* gone by a TTL, as objects go in a cluster (a pruned run whose
       * object stays is remembered until it goes) */
      ck_assert_int_eq(hist_store_mark_deleted(s, uid, t + i * 60 + 700, err, sizeof err), 0);
    }
    int n = 0;
    do
      ck_assert_int_eq(hist_store_prune(s, t + DAY - 3 * DAY, 0, 500, &n, err, sizeof err), 0);
    while (n == 500);
    int64_t size = hist_store_size(s);
    if (day == 0) day0 = size;
    if (day == 5) day5 = size;
    if (day >= 5 && size > most) most = size;
  }
  ck_assert_msg(day5 > 2 * day0, "the file grew while filling: day 0 %lld, day 5 %lld", (long long)day0,
                (long long)day5);
  ck_assert_msg(most <= day5 + day5 / 20, "day 5: %lld bytes, later up to %lld", (long long)day5, (long long)most);
  hist_store_close(s);
  ck_assert_int_eq(raw_count(path, "SELECT COUNT(*) FROM runs"), 3 * 250); /* days 7, 8, 9 */
  char *side = NULL;
  if (asprintf(&side, "%s-wal", path) >= 0) unlink(side);
  free(side);
  if (asprintf(&side, "%s-shm", path) >= 0) unlink(side);
  free(side);
  unlink(path);
  free(path);
  rmdir(dir);
  free(dir);
}
END_TEST

START_TEST(list_filters_and_paging) {
  hist_store *s = usage_fixture();
  put_run(s, "rd", "p", "alice", T0 + 10);
  char err[256] = "";
  json_t *list = NULL;
  const char *p[] = {"p"};
  hist_run_filter f = {.projects = p, .nprojects = 1, .limit = 2};
  ck_assert_int_eq(hist_store_list_runs(s, &f, &list, err, sizeof err), 0);
  ck_assert_int_eq(json_array_size(list), 2);
  ck_assert_str_eq(json_string_value(json_object_get(json_array_get(list, 0), "uid")), "rd");
  ck_assert_str_eq(json_string_value(json_object_get(json_array_get(list, 1), "uid")), "ra");
  json_decref(list);
  f.after_uid = "ra";
  ck_assert_int_eq(hist_store_list_runs(s, &f, &list, err, sizeof err), 0);
  ck_assert_int_eq(json_array_size(list), 1);
  ck_assert_str_eq(json_string_value(json_object_get(json_array_get(list, 0), "uid")), "rb");
  json_decref(list);
  hist_run_filter g = {.creator = "alice", .from = T0 + 5};
  ck_assert_int_eq(hist_store_list_runs(s, &g, &list, err, sizeof err), 0);
  ck_assert_int_eq(json_array_size(list), 1);
  json_decref(list);
  hist_run_filter h = {.limit = 5000};
  ck_assert_int_eq(hist_store_list_runs(s, &h, &list, err, sizeof err), CUBIT_EINVAL);
  ck_assert_ptr_nonnull(strstr(err, "limit"));
  hist_store_close(s);
}
END_TEST

START_TEST(gone_runs_and_open_intervals) {
  hist_store *s = open_mem();
  char err[256] = "";
  put_run(s, "u1", "p", "alice", T0);
  put_run(s, "u2", "p", "alice", T0);
  put_iv(s, "pod1", "u1", T0 + 10, 0, 1000, "A100");
  put_iv(s, "pod2", "u1", T0 + 10, T0 + 20, 1000, "A100");
  char **keys = NULL;
  size_t n = 0;
  ck_assert_int_eq(hist_store_live_keys(s, "TrainingJob", &keys, &n, err, sizeof err), 0);
  ck_assert_uint_eq(n, 2);
  for (size_t i = 0; i < n; i++) {
    ck_assert_ptr_nonnull(strstr(keys[i], "team-a/u"));
    free(keys[i]);
  }
  free(keys);
  /* u1 (ns team-a, name u1) went while the recorder was away. */
  ck_assert_int_eq(hist_store_mark_gone(s, "TrainingJob", "team-a", "u1", T0 + 100, err, sizeof err), 0);
  ck_assert_int_eq(hist_store_mark_gone(s, "TrainingJob", "team-a", "u1", T0 + 500, err, sizeof err), 0);
  json_t *r = get_run(s, "u1");
  ck_assert_int_eq(json_integer_value(json_object_get(r, "deletedAt")), T0 + 100);
  json_t *pods = json_object_get(r, "pods");
  ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(pods, 0), "endedAt")), T0 + 100);
  ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(pods, 1), "endedAt")), T0 + 20);
  json_decref(r);
  ck_assert_int_eq(hist_store_live_keys(s, "TrainingJob", &keys, &n, err, sizeof err), 0);
  ck_assert_uint_eq(n, 1);
  ck_assert_str_eq(keys[0], "team-a/u2");
  free(keys[0]);
  free(keys);
  ck_assert_int_eq(hist_store_live_keys(s, "Notebook", &keys, &n, err, sizeof err), 0);
  ck_assert_uint_eq(n, 0);
  free(keys);
  /* A finished run's vanished pod stops counting at the finish. */
  put_iv(s, "pod3", "u2", T0 + 10, 0, 1000, "A100");
  ck_assert_int_eq(hist_store_close_intervals(s, "u2", T0 + 40, err, sizeof err), 0);
  ck_assert_int_eq(hist_store_close_intervals(s, "u2", T0 + 90, err, sizeof err), 0);
  r = get_run(s, "u2");
  ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(json_object_get(r, "pods"), 0), "endedAt")),
                   T0 + 40);
  json_decref(r);
  hist_store_close(s);
}
END_TEST

int main(void) {
  Suite *s = suite_create("history");
  TCase *tc = tcase_create("store");
  tcase_add_test(tc, open_memory_at_current_version);
  tcase_add_loop_test(tc, migration_keeps_data, 0, HIST_SCHEMA_VERSION - 1);
  tcase_add_test(tc, run_and_transitions_idempotent);
  tcase_add_test(tc, intervals_idempotent);
  tcase_add_loop_test(tc, clip_table, 0, N(clip_cases));
  tcase_add_loop_test(tc, usage_table, 0, N(usage_cases));
  tcase_add_test(tc, usage_rejects_empty_window_and_unknown_project);
  tcase_add_test(tc, list_filters_and_paging);
  tcase_add_test(tc, gone_runs_and_open_intervals);
  tcase_add_loop_test(tc, usage_edges, 0, N(edge_cases));
  tcase_add_loop_test(tc, label_filters, 0, N(label_cases));
  tcase_add_test(tc, labels_bounded);
  tcase_add_loop_test(tc, rollup_equals_raw, 0, 4);
  tcase_add_test(tc, rollup_rebuilt_by_migration);
  tcase_add_test(tc, usage_counters);
  tcase_add_test(tc, prune_by_age_in_batches);
  tcase_add_test(tc, size_flat_under_retention);
  tcase_set_timeout(tc, 120); /* thousands of single-row transactions on a file, slower under sanitizers */
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
