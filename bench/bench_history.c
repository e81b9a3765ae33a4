/* The history store (history/store.h) at scale: how fast the recorder's
 * writes go, what a run costs on disk, how long the usage query of one
 * project over 90 days takes, and the process' memory with the store open.
 *
 *   bench_history [RUNS] [--db PATH [--query-only]] [--queries Q] [--json out.json] [--baseline old.json]
 *
 * RUNS (default 100000) synthetic runs go through the store API as the
 * recorder writes them: the run, its Running and Succeeded transitions, one
 * pod interval (every tenth run a second, replacement pod). The first
 * min(RUNS, 20000) are written as the recorder does, one transaction per
 * run (insert_rate, insert_cpu_per_run); the rest are loaded 1000 runs per
 * transaction (bulk_rate), so 10^6 rows take minutes, not an hour. They spread over 10 projects and 20 members
 * and the 365 days before "now", so 90 days hold about a quarter of a
 * project's runs. Q (default 200) usage queries by day for one project over
 * the last 90 days up to midnight give p50 and p99 (usage_90d_*: whole
 * days, from the roll-ups), and Q more over a window 7 h into its first
 * day to 5 h before "now" (usage_90d_edges_*: the partial days' runs read
 * raw). --db keeps the file (default: a
 * temporary one, removed); --query-only asks the queries of a file an
 * earlier run kept (RUNS as it was then). Figures, never a pass or a fail. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "benchutil.h"
#include "history/store.h"
#include "util/time.h"

#define DAY 86400
#define NOW 1796083200 /* 2026-12-01T00:00:00Z */
#define PROJECTS 10

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double cpu_s(void) {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return (double)u.ru_utime.tv_sec + u.ru_utime.tv_usec / 1e6 + (double)u.ru_stime.tv_sec + u.ru_stime.tv_usec / 1e6;
}

static int64_t file_size(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 ? (int64_t)st.st_size : 0;
}

/* A small deterministic generator, so two runs of the bench write the same rows. */
static uint64_t next_rand(uint64_t *s) {
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}

int main(int argc, char **argv) {
  bench_figures *b = bench_start("bench_history", &argc, argv);
  long runs = 100000;
  int queries = 200;
  const char *db = NULL;
  int query_only = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--db") == 0 && i + 1 < argc) db = argv[++i];
    else if (strcmp(argv[i], "--queries") == 0 && i + 1 < argc) queries = atoi(argv[++i]);
    else if (strcmp(argv[i], "--query-only") == 0) query_only = 1;
    else if (argv[i][0] != '-') runs = atol(argv[i]);
    else {
      fprintf(stderr, "usage: %s [RUNS] [--db PATH] [--queries Q] [--json FILE] [--baseline FILE]\n", argv[0]);
      return 2;
    }
  }
  if (query_only && db == NULL) {
    fprintf(stderr, "--query-only needs --db\n");
    return 2;
  }
  if (runs <= 0 || queries <= 0) {
    fprintf(stderr, "RUNS and Q must be positive\n");
    return 2;
  }
  char tmp[] = "/tmp/bench-history-XXXXXX";
  char path[4096];
  if (db == NULL) {
    if (mkdtemp(tmp) == NULL) return 1;
    snprintf(path, sizeof path, "%s/history.db", tmp);
  } else {
    snprintf(path, sizeof path, "%s", db);
  }
  char err[512] = "";
  hist_store *s = NULL;
  if (hist_store_open(path, &s, err, sizeof err)) {
    fprintf(stderr, "%s\n", err);
    return 1;
  }
  size_t rss0 = bench_rss_bytes();

  uint64_t seed = 0x9e3779b97f4a7c15ULL;
  static const char *const models[] = {"A100", "V100", "T4"};
  const long per_run = query_only ? 0 : runs < 20000 ? runs : 20000;
  double t0 = time_mono_s(), c0 = cpu_s(), per_run_s = 0, per_run_cpu = 0;
  for (long i = 0; !query_only && i < runs; i++) {
    if (i == per_run) {
      per_run_s = time_mono_s() - t0;
      per_run_cpu = cpu_s() - c0;
      t0 = time_mono_s();
    }
    /* one transaction per run, then per 1000 runs */
    int tx = i < per_run || (i - per_run) % 1000 == 0;
    if (tx && hist_store_begin(s, err, sizeof err)) {
      fprintf(stderr, "begin: %s\n", err);
      return 1;
    }
    char uid[40], pod[48], name[40], project[16], creator[32];
    snprintf(uid, sizeof uid, "run-%010ld", i);
    snprintf(name, sizeof name, "job-%ld", i);
    uint64_t r = next_rand(&seed);
    snprintf(project, sizeof project, "team-%d", (int)(r % PROJECTS));
    snprintf(creator, sizeof creator, "user-%d", (int)((r >> 8) % 20));
    /* created over the last year, in order, running 10 min to 4 h */
    int64_t created = NOW - 365 * DAY + (int64_t)((double)i / runs * 365 * DAY);
    int64_t start = created + 30 + (int64_t)((r >> 16) % 600);
    int64_t end = start + 600 + (int64_t)((r >> 24) % (4 * 3600));
    int64_t gpu = 1000 * (int64_t)(1 + (r >> 32) % 4);
    const char *model = models[(r >> 40) % 3];
    hist_run run = {.uid = uid, .kind = "TrainingJob", .ns = project, .name = name, .project = project,
                    .creator = creator, .phase = "Running", .cpu_milli = 4000, .memory_bytes = 16LL << 30,
                    .gpu_milli = gpu, .gpu_model = model, .created_at = created};
    int rc = hist_store_put_run(s, &run, err, sizeof err);
    if (rc == 0) rc = hist_store_add_transition(s, uid, "Running", start, "Running", "1 of 1 pods running", NULL, err, sizeof err);
    snprintf(pod, sizeof pod, "%s-0", uid);
    hist_interval iv = {.pod_uid = pod, .run_uid = uid, .pod_name = pod, .node = "gpu-node-1", .started_at = start,
                        .ended_at = end, .cpu_milli = 4000, .gpu_milli = gpu, .gpu_model = model};
    if (rc == 0 && i % 10 == 9) { /* a pod replaced half-way */
      iv.ended_at = (start + end) / 2;
      rc = hist_store_put_interval(s, &iv, err, sizeof err);
      snprintf(pod, sizeof pod, "%s-1", uid);
      iv.started_at = iv.ended_at + 5;
      iv.ended_at = end;
    }
    if (rc == 0) rc = hist_store_put_interval(s, &iv, err, sizeof err);
    run.phase = "Succeeded";
    run.finished_at = end;
    if (rc == 0) rc = hist_store_put_run(s, &run, err, sizeof err);
    if (rc == 0) rc = hist_store_add_transition(s, uid, "Succeeded", end, "Succeeded", "", NULL, err, sizeof err);
    if (rc) {
      fprintf(stderr, "run %ld: %s\n", i, err);
      return 1;
    }
    int last = i < per_run || (i - per_run) % 1000 == 999 || i == runs - 1;
    if (last && hist_store_end(s, 1, err, sizeof err)) {
      fprintf(stderr, "commit: %s\n", err);
      return 1;
    }
  }
  if (!query_only && runs == per_run) {
    per_run_s = time_mono_s() - t0;
    per_run_cpu = cpu_s() - c0;
  }
  double bulk_s = !query_only && runs > per_run ? time_mono_s() - t0 : 0;
  int64_t size = hist_store_size(s);

  /* Even queries: the 90 days up to midnight (whole days only); odd ones:
   * a window starting 7 h into its first day and ending 5 h before "now"
   * (the partial days read raw), as "the last 90 days" asked at any hour. */
  double *lat = calloc((size_t)queries, sizeof *lat), *lat_edges = calloc((size_t)queries, sizeof *lat_edges);
  double q_cpu0 = cpu_s();
  int64_t rows_total = 0;
  int nlat = 0, nedges = 0;
  for (int q = 0; q < 2 * queries; q++) {
    char project[16];
    snprintf(project, sizeof project, "team-%d", (q / 2) % PROJECTS);
    const char *projects[] = {project};
    hist_usage_row *rows = NULL;
    size_t n = 0;
    int edges = q % 2;
    int64_t from = NOW - 90 * DAY + (edges ? 7 * 3600 : 0), to = NOW - (edges ? 5 * 3600 : 0);
    double q0 = time_mono_s();
    if (hist_store_usage(s, projects, 1, HIST_BY_DAY, from, to, NOW, &rows, &n, err, sizeof err)) {
      fprintf(stderr, "usage: %s\n", err);
      return 1;
    }
    if (edges) lat_edges[nedges++] = (time_mono_s() - q0) * 1000;
    else lat[nlat++] = (time_mono_s() - q0) * 1000;
    rows_total += (int64_t)n;
    free(rows);
  }
  double q_cpu = (cpu_s() - q_cpu0) / (2 * queries) * 1000;
  qsort(lat, (size_t)queries, sizeof *lat, cmp_double);
  qsort(lat_edges, (size_t)queries, sizeof *lat_edges, cmp_double);
  size_t rss = bench_rss_bytes();

  bench_figure(b, "runs", (double)runs, "", 1);
  if (per_run > 0) {
    bench_figure(b, "insert_rate", per_run / per_run_s, "runs/s", 1);
    bench_figure(b, "insert_cpu_per_run", per_run_cpu / per_run * 1e6, "us", 0);
  }
  if (bulk_s > 0) bench_figure(b, "bulk_rate", (runs - per_run) / bulk_s, "runs/s", 1);
  bench_figure(b, "db_bytes_per_run", (double)size / runs, "B", 0);
  bench_figure(b, "db_size", (double)size / (1 << 20), "MiB", 0);
  char wal[4200];
  snprintf(wal, sizeof wal, "%s-wal", path);
  bench_figure(b, "db_file_with_wal", (double)(file_size(path) + file_size(wal)) / (1 << 20), "MiB", 0);
  bench_figure(b, "usage_90d_p50", lat[queries / 2], "ms", 0);
  bench_figure(b, "usage_90d_p99", lat[(size_t)((queries - 1) * 0.99)], "ms", 0);
  bench_figure(b, "usage_90d_edges_p50", lat_edges[queries / 2], "ms", 0);
  bench_figure(b, "usage_90d_edges_p99", lat_edges[(size_t)((queries - 1) * 0.99)], "ms", 0);
  bench_figure(b, "usage_90d_cpu_avg", q_cpu, "ms", 0);
  bench_figure(b, "usage_rows_avg", (double)rows_total / (2 * queries), "", 1);
  bench_figure(b, "rss_store_open", (double)rss0 / (1 << 20), "MiB", 0);
  bench_figure(b, "rss_after", (double)rss / (1 << 20), "MiB", 0);
  free(lat);
  free(lat_edges);
  hist_store_close(s);
  if (db == NULL) {
    char side[4200];
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
    unlink(path);
    rmdir(tmp);
  }
  return bench_finish(b);
}
