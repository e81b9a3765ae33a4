/* Tests of api/experiment/metrics: name=value text lines and JSON lines,
 * steps, partial lines, garbage, NaN and infinities, huge outputs capped. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/experiment/metrics.h"
#include "testutil.h"

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

typedef struct {
  const char *name;
  hpo_metrics_format fmt;
  int complete;
  const char *out;
  const char *metric;
  size_t n;                /* observations of metric */
  int64_t steps[4];        /* the first ones */
  double values[4];
} metrics_case;

static const metrics_case cases[] = {
    {"katib text", HPO_METRICS_TEXT, 1, "epoch 3 loss=0.21 accuracy=0.9\n", "loss", 1, {3}, {0.21}},
    {"other metric on the line", HPO_METRICS_TEXT, 1, "epoch 3 loss=0.21 accuracy=0.9\n", "accuracy", 1, {3}, {0.9}},
    {"no step: line order", HPO_METRICS_TEXT, 1, "loss=1\nsomething else\nloss=2\n", "loss", 2, {1, 2}, {1, 2}},
    {"step= key", HPO_METRICS_TEXT, 1, "step=5 loss=1.5\nstep=7, loss=1.25;\n", "loss", 2, {5, 7}, {1.5, 1.25}},
    {"epoch= key after the value", HPO_METRICS_TEXT, 1, "loss=4 epoch=2\n", "loss", 1, {2}, {4}},
    {"partial last line skipped", HPO_METRICS_TEXT, 0, "loss=1\nloss=2", "loss", 1, {1}, {1}},
    {"partial last line of a complete output", HPO_METRICS_TEXT, 1, "loss=1\nloss=2", "loss", 2, {1, 2}, {1, 2}},
    {"CRLF", HPO_METRICS_TEXT, 1, "loss=3\r\n", "loss", 1, {1}, {3}},
    {"garbage and non-finite refused", HPO_METRICS_TEXT, 1,
     "loss=abc\nloss=nan\nloss=inf\nloss=-Infinity\nloss=1e999\n==\nloss=\n=1\nloss==2\nloss=0x\n", "loss", 0, {0}, {0}},
    {"prefix of another name", HPO_METRICS_TEXT, 1, "val_loss=1 loss2=3\n", "loss", 0, {0}, {0}},
    {"names with punctuation", HPO_METRICS_TEXT, 1, "val/top-1.acc=0.5\n", "val/top-1.acc", 1, {1}, {0.5}},
    {"empty output", HPO_METRICS_TEXT, 1, "", "loss", 0, {0}, {0}},
    {"json lines", HPO_METRICS_JSON, 1, "{\"step\": 3, \"loss\": 0.21}\n{\"loss\": \"0.5\", \"epoch\": 4}\n", "loss", 2,
     {3, 4}, {0.21, 0.5}},
    {"json garbage", HPO_METRICS_JSON, 1,
     "not json\n[1,2]\n{\"loss\": NaN}\n{\"loss\": \"x\"}\n{\"loss\": true}\n{\"loss\": 1e999}\n{broken\n", "loss", 0,
     {0}, {0}},
    {"json without step", HPO_METRICS_JSON, 1, "  {\"loss\": 2}\n{\"loss\": 1, \"step\": 1.5}\n", "loss", 2, {1, 2},
     {2, 1}},
    {"json partial line", HPO_METRICS_JSON, 0, "{\"loss\": 2}\n{\"loss\": 1", "loss", 1, {1}, {2}},
    {"text line in json format", HPO_METRICS_JSON, 1, "loss=2\n", "loss", 0, {0}, {0}},
};

START_TEST(parse_table) {
  const metrics_case *c = &cases[_i];
  const char *names[] = {"loss", "accuracy", "val/top-1.acc"};
  hpo_metrics m;
  hpo_metrics_parse(c->out, strlen(c->out), c->fmt, c->complete, names, N(names), &m);
  const hpo_series *s = hpo_metrics_get(&m, c->metric);
  ck_assert_msg((s ? s->n : 0) == c->n, "%s: %zu observations, want %zu", c->name, s ? s->n : 0, c->n);
  for (size_t i = 0; i < c->n && i < 4; i++) {
    ck_assert_msg(s->obs[i].step == c->steps[i], "%s: step %lld, want %lld", c->name, (long long)s->obs[i].step,
                  (long long)c->steps[i]);
    ck_assert_msg(fabs(s->obs[i].value - c->values[i]) < 1e-12, "%s: value %g", c->name, s->obs[i].value);
  }
  hpo_metrics_free(&m);
}
END_TEST

/* Only the metrics asked for are kept; a name asked twice is one series. */
START_TEST(names_asked) {
  const char *names[] = {"loss", "loss", "", NULL};
  hpo_metrics m;
  hpo_metrics_parse("loss=1 accuracy=2\n", 18, HPO_METRICS_TEXT, 1, names, 4, &m);
  ck_assert_uint_eq(m.n, 1);
  ck_assert_ptr_null(hpo_metrics_get(&m, "accuracy"));
  ck_assert_ptr_nonnull(hpo_metrics_get(&m, "loss"));
  hpo_metrics_free(&m);
  hpo_metrics_parse(NULL, 0, HPO_METRICS_JSON, 1, names, 1, &m);
  ck_assert_ptr_null(hpo_metrics_get(&m, "loss"));
  hpo_metrics_free(&m);
}
END_TEST

/* A huge output: at most HPO_METRICS_MAX_BYTES read, a series keeps its
 * last HPO_MAX_OBSERVATIONS values. */
START_TEST(huge_output) {
  size_t lines = 300000, len = 0;
  char *buf = malloc(lines * 16);
  for (size_t i = 1; i <= lines; i++) len += (size_t)sprintf(buf + len, "loss=%zu\n", i);
  const char *names[] = {"loss"};
  hpo_metrics m;
  hpo_metrics_parse(buf, len, HPO_METRICS_TEXT, 1, names, 1, &m);
  const hpo_series *s = hpo_metrics_get(&m, "loss");
  ck_assert_ptr_nonnull(s);
  ck_assert_uint_eq(s->n, HPO_MAX_OBSERVATIONS);
  /* The last kept is the last read within the caps, and in order. */
  for (size_t i = 1; i < s->n; i++) ck_assert(s->obs[i].value == s->obs[i - 1].value + 1);
  ck_assert(s->obs[s->n - 1].step == (int64_t)s->obs[s->n - 1].value);
  hpo_metrics_free(&m);
  /* One line of a megabyte and more: nothing, and no work beyond the cap. */
  memset(buf, 'x', 2 * 1024 * 1024);
  memcpy(buf, "loss=1 ", 7);
  hpo_metrics_parse(buf, 2 * 1024 * 1024, HPO_METRICS_TEXT, 1, names, 1, &m);
  ck_assert_ptr_null(hpo_metrics_get(&m, "loss"));
  hpo_metrics_free(&m);
  free(buf);
}
END_TEST

/* A NUL inside a line: the line is no metric line. */
START_TEST(nul_bytes) {
  const char out[] = "loss=1\0x\nloss=2\n";
  const char *names[] = {"loss"};
  hpo_metrics m;
  hpo_metrics_parse(out, sizeof(out) - 1, HPO_METRICS_TEXT, 1, names, 1, &m);
  const hpo_series *s = hpo_metrics_get(&m, "loss");
  ck_assert_ptr_nonnull(s);
  ck_assert_uint_eq(s->n, 1);
  ck_assert(s->obs[0].value == 2);
  hpo_metrics_free(&m);
}
END_TEST

int main(void) {
  Suite *s = suite_create("experiment_metrics");
  TCase *tc = tcase_create("metrics");
  tcase_set_timeout(tc, 60);
  tcase_add_loop_test(tc, parse_table, 0, N(cases));
  tcase_add_test(tc, names_asked);
  tcase_add_test(tc, huge_output);
  tcase_add_test(tc, nul_bytes);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
