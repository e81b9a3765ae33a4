#include "util/dag.h"

#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"

/* Depth-first search for a cycle reachable from 'start' along dependency
 * edges; colour 1 = on the current path, 2 = done. Returns 1 and fills the
 * cycle when found. Iterative, so a long chain cannot overflow the stack. */
static int find_cycle(const dag_graph *g, size_t start, unsigned char *colour, size_t *stack, size_t *next,
                      size_t *cycle, size_t *ncycle) {
  size_t depth = 0;
  stack[depth] = start;
  next[depth] = 0;
  colour[start] = 1;
  while (1) {
    size_t v = stack[depth];
    if (next[depth] < g->ndeps[v]) {
      size_t w = g->deps[v][next[depth]++];
      if (colour[w] == 1) {
        /* On the path each node depends on the next, from w down to v, and v
         * depends on w: read backwards from v, each depends on the one before. */
        size_t from = depth;
        while (stack[from] != w) from--;
        size_t len = depth - from + 1;
        for (size_t k = 0; k < len; k++) cycle[k] = stack[depth - k];
        /* Rotate so the lowest index leads: a stable message. */
        size_t low = 0;
        for (size_t k = 1; k < len; k++)
          if (cycle[k] < cycle[low]) low = k;
        size_t *tmp = xmalloc(len * sizeof(size_t));
        for (size_t k = 0; k < len; k++) tmp[k] = cycle[(low + k) % len];
        memcpy(cycle, tmp, len * sizeof(size_t));
        free(tmp);
        *ncycle = len;
        return 1;
      }
      if (colour[w] == 0) {
        colour[w] = 1;
        depth++;
        stack[depth] = w;
        next[depth] = 0;
      }
      continue;
    }
    colour[v] = 2;
    if (depth == 0) return 0;
    depth--;
  }
}

int dag_toposort(const dag_graph *g, size_t *order, size_t *cycle, size_t *ncycle) {
  *ncycle = 0;
  size_t n = g->n;
  for (size_t i = 0; i < n; i++)
    for (size_t k = 0; k < g->ndeps[i]; k++)
      if (g->deps[i][k] >= n) return CUBIT_EINVAL;
  /* Kahn's algorithm, always taking the lowest ready index. */
  size_t *missing = xcalloc(n + 1, sizeof(size_t));
  unsigned char *placed = xcalloc(n + 1, 1);
  for (size_t i = 0; i < n; i++) missing[i] = g->ndeps[i];
  size_t done = 0;
  while (done < n) {
    size_t pick = n;
    for (size_t i = 0; i < n; i++)
      if (!placed[i] && missing[i] == 0) {
        pick = i;
        break;
      }
    if (pick == n) break;
    placed[pick] = 1;
    order[done++] = pick;
    for (size_t i = 0; i < n; i++)
      for (size_t k = 0; k < g->ndeps[i]; k++)
        if (g->deps[i][k] == pick) missing[i]--;
  }
  int rc = 0;
  if (done < n) {
    rc = CUBIT_EINVAL;
    unsigned char *colour = xcalloc(n, 1);
    size_t *stack = xcalloc(n, sizeof(size_t));
    size_t *next = xcalloc(n, sizeof(size_t));
    for (size_t i = 0; i < n && *ncycle == 0; i++)
      if (!placed[i] && colour[i] == 0) (void)find_cycle(g, i, colour, stack, next, cycle, ncycle);
    free(colour);
    free(stack);
    free(next);
  }
  free(missing);
  free(placed);
  return rc;
}

void dag_ancestors(const dag_graph *g, size_t from, unsigned char *reach) {
  memset(reach, 0, g->n);
  size_t *todo = xcalloc(g->n + 1, sizeof(size_t));
  size_t ntodo = 0;
  todo[ntodo++] = from;
  while (ntodo) {
    size_t v = todo[--ntodo];
    for (size_t k = 0; k < g->ndeps[v]; k++) {
      size_t w = g->deps[v][k];
      if (w < g->n && !reach[w]) {
        reach[w] = 1;
        todo[ntodo++] = w;
      }
    }
  }
  free(todo);
}
