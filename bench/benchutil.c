#include "benchutil.h"

#include <jansson.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "util/alloc.h"

#define MAX_FIGURES 32

typedef struct figure {
  char key[64];
  char unit[16];
  double value;
  int higher_is_better;
} figure;

struct bench_figures {
  char name[64];
  const char *json_path;
  json_t *baseline;
  figure f[MAX_FIGURES];
  int n;
};

bench_figures *bench_start(const char *name, int *argc, char **argv) {
  bench_figures *b = xcalloc(1, sizeof(*b));
  snprintf(b->name, sizeof(b->name), "%s", name);
  int out = 1;
  for (int i = 1; i < *argc; i++) {
    if (strcmp(argv[i], "--json") == 0 && i + 1 < *argc) {
      b->json_path = argv[++i];
    } else if (strcmp(argv[i], "--baseline") == 0 && i + 1 < *argc) {
      json_error_t err;
      b->baseline = json_load_file(argv[++i], 0, &err);
      if (b->baseline == NULL) fprintf(stderr, "baseline %s: %s\n", argv[i], err.text);
    } else {
      argv[out++] = argv[i];
    }
  }
  *argc = out;
  return b;
}

void bench_figure(bench_figures *b, const char *key, double value, const char *unit, int higher_is_better) {
  if (b->n == MAX_FIGURES) return;
  figure *f = &b->f[b->n++];
  snprintf(f->key, sizeof(f->key), "%s", key);
  snprintf(f->unit, sizeof(f->unit), "%s", unit);
  f->value = value;
  f->higher_is_better = higher_is_better;
}

int bench_finish(bench_figures *b) {
  struct utsname u;
  uname(&u);
  printf("%s on %s %s, %ld cores\n", b->name, u.sysname, u.machine, sysconf(_SC_NPROCESSORS_ONLN));
  json_t *out = json_object();
  for (int i = 0; i < b->n; i++) {
    figure *f = &b->f[i];
    printf("  %-34s %14.2f %-8s", f->key, f->value, f->unit);
    json_t *base = json_object_get(json_object_get(b->baseline, "figures"), f->key);
    if (json_is_number(base)) {
      double old = json_number_value(base);
      double change = old != 0 ? (f->value - old) / old * 100 : 0;
      int better = f->higher_is_better ? change > 0 : change < 0;
      printf("  baseline %12.2f  %+6.1f%% %s", old, change, change == 0 ? "" : better ? "(better)" : "(worse)");
    }
    printf("\n");
    json_object_set_new(out, f->key, json_real(f->value));
  }
  if (b->json_path) {
    json_t *doc = json_pack("{s:s, s:o}", "benchmark", b->name, "figures", out);
    if (json_dump_file(doc, b->json_path, JSON_INDENT(2) | JSON_SORT_KEYS)) fprintf(stderr, "cannot write %s\n", b->json_path);
    json_decref(doc);
  } else {
    json_decref(out);
  }
  json_decref(b->baseline);
  free(b);
  return 0;
}

size_t bench_rss_bytes(void) {
  long pages = 0, resident = 0;
  FILE *f = fopen("/proc/self/statm", "r");
  if (f) {
    if (fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    fclose(f);
  }
  return (size_t)resident * (size_t)sysconf(_SC_PAGESIZE);
}

size_t bench_heap_bytes(void) {
  struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
}
