/* Figures for benchmarks: named values printed as a table, written as JSON
 * with --json FILE, and compared with a baseline from --baseline FILE. */
#ifndef CUBIT_BENCHUTIL_H
#define CUBIT_BENCHUTIL_H

#include <stddef.h>

typedef struct bench_figures bench_figures;

/* Parses --json and --baseline out of argv (removing them). */
bench_figures *bench_start(const char *name, int *argc, char **argv);
/* Records a figure; 'higher_is_better' only decides the sign shown. */
void bench_figure(bench_figures *b, const char *key, double value, const char *unit, int higher_is_better);
/* Prints the table (with the baseline's values and the change when given),
 * writes the JSON file, frees b. Returns 0. */
int bench_finish(bench_figures *b);

/* Resident set size of this process in bytes (from /proc/self/statm). */
size_t bench_rss_bytes(void);
/* Bytes currently allocated by malloc (mallinfo2's uordblks). */
size_t bench_heap_bytes(void);

#endif
