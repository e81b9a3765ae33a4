/* usage and history: requests to Cubit's history API (docs/history.md) and
 * its answers as tables or CSV. Pure: arguments and answers in, paths and
 * text out. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "util/alloc.h"
#include "util/json.h"
#include "util/time.h"

/* Appends "&name=value" (the first "?name=value"), value percent-encoded
 * but for RFC 3986's unreserved characters. */
static void param(char **path, const char *name, const char *value) {
  if (value == NULL || *value == '\0') return;
  char *enc = xmalloc(strlen(value) * 3 + 1), *w = enc;
  for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
    if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || strchr("-._~", *p))
      *w++ = (char)*p;
    else
      w += sprintf(w, "%%%02X", *p);
  }
  *w = '\0';
  char *next = xasprintf("%s%s%s=%s", *path, strchr(*path, '?') ? "&" : "?", name, enc);
  free(enc);
  free(*path);
  *path = next;
}

/* --from/--to/--since as RFC 3339 for the API (validated by cli_parse). */
static void window(char **path, const cli_args *a, int64_t now) {
  int64_t t;
  char text[32], err[200];
  if (a->since_s) {
    time_format_rfc3339(now - a->since_s, text);
    param(path, "from", text);
  } else if (a->from && cli_parse_when(a->from, now, &t, err, sizeof(err)) == 0) {
    time_format_rfc3339(t, text);
    param(path, "from", text);
  }
  if (a->to && cli_parse_when(a->to, now, &t, err, sizeof(err)) == 0) {
    time_format_rfc3339(t, text);
    param(path, "to", text);
  }
}

char *cli_usage_path(const cli_args *a, int64_t now) {
  char *path = xstrdup("/api/v1/usage");
  param(&path, "project", a->project);
  param(&path, "by", a->by ? a->by : "day");
  window(&path, a, now);
  return path;
}

char *cli_history_path(const cli_args *a, const char *ns, const char *after, int limit, int64_t now) {
  char *path = xstrdup("/api/v1/runs");
  char n[16];
  snprintf(n, sizeof(n), "%d", limit);
  param(&path, "project", a->project);
  param(&path, "kind", a->kind);
  param(&path, "namespace", ns);
  param(&path, "phase", a->phase);
  param(&path, "user", a->creator);
  window(&path, a, now);
  param(&path, "limit", n);
  param(&path, "after", after);
  return path;
}

static const char *or_empty(const char *s) { return s ? s : ""; }

static double js_num(const json_t *o, const char *key, double def) {
  json_t *v = json_object_get(o, key);
  return json_is_number(v) ? json_number_value(v) : def;
}

static const char *key_header(const char *by) {
  if (strcmp(by, "gpu-model") == 0) return "GPU-MODEL";
  if (strcmp(by, "member") == 0) return "MEMBER";
  if (strcmp(by, "project") == 0) return "PROJECT";
  if (strcmp(by, "week") == 0) return "WEEK";
  if (strcmp(by, "month") == 0) return "MONTH";
  return "DAY";
}

int cli_render_usage(const json_t *answer, cli_output o, cubit_buf *out) {
  const char *by = js_str(answer, "by") ? js_str(answer, "by") : "day";
  json_t *items = json_object_get(answer, "items");
  size_t i;
  json_t *it;
  char gh[32], ch[32], ms[32], runs[32];
  if (o == CLI_OUT_CSV) {
    if (buf_appendf(out, "%s,gpuHours,cpuHours,gpuMilliSeconds,runs\n", by)) return CUBIT_ENOMEM;
    json_array_foreach(items, i, it) {
      if (cli_csv_field(or_empty(js_str(it, "key")), out) ||
          buf_appendf(out, ",%.6f,%.6f,%lld,%lld\n", js_num(it, "gpuHours", 0), js_num(it, "cpuHours", 0),
                      (long long)js_int(it, "gpuMilliSeconds", 0), (long long)js_int(it, "runs", 0)))
        return CUBIT_ENOMEM;
    }
    return 0;
  }
  const char *project = js_str(answer, "project");
  if (buf_appendf(out, "%-10s%s\n%-10s%s .. %s\n\n", "Project:", project && *project ? project : "(every project)",
                  "Window:", or_empty(js_str(answer, "from")), or_empty(js_str(answer, "to"))))
    return CUBIT_ENOMEM;
  int wide = o == CLI_OUT_WIDE;
  cli_table t;
  cli_table_init(&t, wide ? 5 : 4);
  const char *head[] = {key_header(by), "GPU-HOURS", "CPU-HOURS", wide ? "GPU-MILLI-SECONDS" : "RUNS", "RUNS"};
  cli_table_add(&t, head);
  double gpu = 0, cpu = 0;
  long long gms = 0;
  json_array_foreach(items, i, it) {
    gpu += js_num(it, "gpuHours", 0);
    cpu += js_num(it, "cpuHours", 0);
    gms += (long long)js_int(it, "gpuMilliSeconds", 0);
    snprintf(gh, sizeof(gh), "%.3f", js_num(it, "gpuHours", 0));
    snprintf(ch, sizeof(ch), "%.3f", js_num(it, "cpuHours", 0));
    snprintf(ms, sizeof(ms), "%lld", (long long)js_int(it, "gpuMilliSeconds", 0));
    snprintf(runs, sizeof(runs), "%lld", (long long)js_int(it, "runs", 0));
    const char *row[] = {or_empty(js_str(it, "key")), gh, ch, wide ? ms : runs, runs};
    cli_table_add(&t, row);
  }
  /* A run may count in several rows (days, models): runs have no total. */
  snprintf(gh, sizeof(gh), "%.3f", gpu);
  snprintf(ch, sizeof(ch), "%.3f", cpu);
  snprintf(ms, sizeof(ms), "%lld", gms);
  const char *total[] = {"TOTAL", gh, ch, wide ? ms : "", ""};
  cli_table_add(&t, total);
  int rc = json_array_size(items) ? cli_table_write(&t, out) : (buf_appends(out, "(no usage in the window)\n") ? CUBIT_ENOMEM : 0);
  cli_table_free(&t);
  return rc;
}

static void when(const json_t *run, const char *field, char *out) {
  json_t *v = json_object_get(run, field);
  out[0] = '\0';
  if (json_is_integer(v)) time_format_rfc3339((int64_t)json_integer_value(v), out);
}

int cli_render_history(const json_t *runs, cli_output o, int64_t now, cubit_buf *out) {
  int wide = o == CLI_OUT_WIDE;
  cli_table t;
  cli_table_init(&t, wide ? 12 : 8);
  const char *head[] = {"KIND", "NAMESPACE/NAME", "PROJECT", "CREATOR", "PHASE", "GPU", "CREATED", "DURATION",
                        "GPU-MODEL", "CPU", "DELETED", "UID"};
  cli_table_add(&t, head);
  size_t i;
  json_t *r;
  json_array_foreach(runs, i, r) {
    char nn[520], gpu[32] = "", cpu[32] = "", created[32], deleted[32], dur[48] = "";
    snprintf(nn, sizeof(nn), "%s/%s", or_empty(js_str(r, "namespace")), or_empty(js_str(r, "name")));
    json_int_t g = js_int(r, "gpuMilli", 0), c = js_int(r, "cpuMilli", 0);
    if (g) snprintf(gpu, sizeof(gpu), "%g", (double)g / 1000);
    if (c) snprintf(cpu, sizeof(cpu), "%lldm", (long long)c);
    when(r, "createdAt", created);
    when(r, "deletedAt", deleted);
    json_t *fin = json_object_get(r, "finishedAt");
    int64_t start = js_int(r, "createdAt", 0);
    if (json_is_integer(fin)) cli_format_duration((int64_t)json_integer_value(fin) - start, dur, sizeof(dur));
    else if (start && !json_is_integer(json_object_get(r, "deletedAt"))) {
      char d[40];
      cli_format_duration(now - start, d, sizeof(d));
      snprintf(dur, sizeof(dur), "%s+", d);
    }
    const char *row[] = {or_empty(js_str(r, "kind")), nn, or_empty(js_str(r, "project")), or_empty(js_str(r, "creator")),
                         or_empty(js_str(r, "phase")), gpu, created, dur, or_empty(js_str(r, "gpuModel")), cpu,
                         deleted, or_empty(js_str(r, "uid"))};
    cli_table_add(&t, row);
  }
  int rc = json_array_size(runs) ? cli_table_write(&t, out) : (buf_appends(out, "(no runs)\n") ? CUBIT_ENOMEM : 0);
  cli_table_free(&t);
  return rc;
}
