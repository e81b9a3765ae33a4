/* util/dag: topological order (stable, dependencies first), the cycle that
 * prevents one, and ancestors. */
#include <string.h>

#include "testutil.h"
#include "util/dag.h"

#define MAXN 8

/* A graph from "i:j,k" lines: node i depends on j and k. */
typedef struct graph {
  size_t n;
  size_t ndeps[MAXN];
  size_t deps_store[MAXN][MAXN];
  const size_t *deps[MAXN];
  dag_graph g;
} graph;

static void build(graph *gr, size_t n, const char *edges) {
  memset(gr, 0, sizeof(*gr));
  gr->n = n;
  for (const char *p = edges; p && *p;) {
    size_t from = (size_t)(*p - 'a');
    p += 2; /* "a:" */
    while (*p && *p != ' ') {
      if (*p != ',') gr->deps_store[from][gr->ndeps[from]++] = (size_t)(*p - 'a');
      p++;
    }
    while (*p == ' ') p++;
  }
  for (size_t i = 0; i < n; i++) gr->deps[i] = gr->deps_store[i];
  gr->g = (dag_graph){n, gr->ndeps, gr->deps};
}

static void order_text(const size_t *order, size_t n, char *out) {
  for (size_t i = 0; i < n; i++) out[i] = (char)('a' + order[i]);
  out[n] = '\0';
}

static const struct {
  size_t n;
  const char *edges; /* "b:a c:a d:b,c" = b after a, c after a, d after b and c */
  const char *order; /* expected order, or NULL for a cycle */
  const char *cycle; /* expected cycle (each after the one before, last before first) */
} cases[] = {
    {1, "", "a", NULL},
    {4, "b:a c:a d:b,c", "abcd", NULL},            /* the diamond */
    {4, "a:d b:d c:d", "dabc", NULL},               /* stable: lowest ready index first */
    {3, "", "abc", NULL},                           /* independent: input order */
    {5, "a:e b:a c:b d:c", "eabcd", NULL},          /* a chain given backwards */
    {2, "a:b b:a", NULL, "ab"},                     /* a -> b -> a */
    {3, "a:c b:a c:b", NULL, "abc"},                /* b needs a, c needs b, a needs c */
    {4, "b:a c:b d:c b:d", NULL, "bcd"},            /* a cycle below a fine root */
    {3, "c:c", NULL, "c"},                          /* a node on itself */
};

START_TEST(toposort_table) {
  graph gr;
  build(&gr, cases[_i].n, cases[_i].edges);
  size_t order[MAXN], cycle[MAXN], ncycle = 99;
  int rc = dag_toposort(&gr.g, order, cycle, &ncycle);
  char text[MAXN + 1];
  if (cases[_i].order) {
    ck_assert_int_eq(rc, 0);
    ck_assert_uint_eq(ncycle, 0);
    order_text(order, cases[_i].n, text);
    ck_assert_str_eq(text, cases[_i].order);
  } else {
    ck_assert_int_eq(rc, CUBIT_EINVAL);
    order_text(cycle, ncycle, text);
    ck_assert_str_eq(text, cases[_i].cycle);
    /* Each node of the cycle depends on the one before it. */
    for (size_t k = 0; k < ncycle; k++) {
      size_t node = cycle[(k + 1) % ncycle], before = cycle[k];
      int found = 0;
      for (size_t d = 0; d < gr.ndeps[node]; d++) found |= gr.deps_store[node][d] == before;
      ck_assert_msg(found, "%c does not depend on %c", (int)('a' + node), (int)('a' + before));
    }
  }
}
END_TEST

START_TEST(bad_index) {
  graph gr;
  build(&gr, 2, "b:a");
  gr.deps_store[1][0] = 7;
  size_t order[MAXN], cycle[MAXN], ncycle = 5;
  ck_assert_int_eq(dag_toposort(&gr.g, order, cycle, &ncycle), CUBIT_EINVAL);
  ck_assert_uint_eq(ncycle, 0);
}
END_TEST

START_TEST(ancestors) {
  graph gr;
  build(&gr, 6, "b:a c:a d:b,c f:e");
  unsigned char reach[MAXN];
  dag_ancestors(&gr.g, 3, reach); /* d */
  ck_assert(reach[0] && reach[1] && reach[2] && !reach[3] && !reach[4] && !reach[5]);
  dag_ancestors(&gr.g, 0, reach); /* a has none */
  for (int i = 0; i < 6; i++) ck_assert(!reach[i]);
  dag_ancestors(&gr.g, 5, reach); /* f: e only */
  ck_assert(reach[4] && !reach[0]);
}
END_TEST

int main(void) {
  Suite *s = suite_create("dag");
  TCase *tc = tcase_create("dag");
  tcase_add_loop_test(tc, toposort_table, 0, (int)(sizeof(cases) / sizeof(cases[0])));
  tcase_add_test(tc, bad_index);
  tcase_add_test(tc, ancestors);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
