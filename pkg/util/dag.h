/* Directed acyclic graphs over nodes 0..n-1: topological order and the
 * cycle that prevents one, so a message can name it ("a -> b -> c -> a").
 *
 * Edges are given as dependencies: deps[i] lists the nodes node i depends on
 * (which must come before it). */
#ifndef CUBIT_UTIL_DAG_H
#define CUBIT_UTIL_DAG_H

#include <stddef.h>

#include "util/err.h"

typedef struct dag_graph {
  size_t n;
  const size_t *ndeps;       /* ndeps[i]: how many nodes node i depends on */
  const size_t *const *deps; /* deps[i][k]: the k-th of them */
} dag_graph;

/* Writes a topological order of g into order[0..n-1]: every node after the
 * nodes it depends on; among nodes that are ready together, the lower index
 * first (so the order is stable and follows the input's order). Returns 0,
 * or CUBIT_EINVAL when g has a cycle: then cycle[0..*ncycle-1] holds one
 * cycle's nodes in dependency order (cycle[k+1] depends on cycle[k], and
 * cycle[0] on the last), starting from its lowest index; cycle must have room
 * for n entries. A dependency index >= n is CUBIT_EINVAL with *ncycle = 0. */
int dag_toposort(const dag_graph *g, size_t *order, size_t *cycle, size_t *ncycle) CUBIT_WUR;

/* Sets reach[j] = 1 for every node j that node 'from' depends on, directly
 * or through others (its ancestors), 0 for the rest. reach has n entries.
 * g must be acyclic. */
void dag_ancestors(const dag_graph *g, size_t from, unsigned char *reach);

#endif
