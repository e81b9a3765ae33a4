/* cubit-suggest: the Experiment's search algorithms on JSON, for
 * benchmarks, tests and trying settings out (docs/experiment.md).
 *
 *   cubit-suggest < request.json > response.json
 *
 * Reads one request on stdin (the Experiment's parameters, objective,
 * algorithm and earlyStopping, the trials so far, how many suggestions),
 * prints the suggestions, the trials to stop and the best trial. Exit 0;
 * 2 for a bad request, with the field named on stderr; 1 when stdin
 * cannot be read. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/experiment/experiment.h"
#include "controllers/experiment/suggest/suggest.h"
#include "util/alloc.h"
#include "util/buf.h"

#define MAX_REQUEST (256u << 20) /* 100,000 trials with their observations fit */

static json_t *response(const hpo_request *rq, const hpo_suggestions *sg, const hpo_stops *st) {
  json_t *out = json_object();
  json_t *list = json_array();
  for (size_t i = 0; i < sg->n; i++)
    json_array_append_new(list, json_pack("{s:I, s:o}", "number", (json_int_t)sg->numbers[i], "parameters",
                                          hpo_assignment_json(&rq->space, sg->x + i * rq->space.n)));
  json_object_set_new(out, "suggestions", list);
  json_object_set_new(out, "exhausted", json_boolean(sg->exhausted));
  if (sg->reason[0]) json_object_set_new(out, "reason", json_string(sg->reason));
  json_t *stops = json_array();
  for (size_t i = 0; i < st->n; i++) {
    const hpo_trial *t = &rq->trials.items[st->items[i].trial];
    json_array_append_new(stops, json_pack("{s:s, s:I, s:s}", "name", t->name, "number", (json_int_t)t->number,
                                           "reason", st->items[i].reason));
  }
  json_object_set_new(out, "earlyStopping", stops);
  const hpo_trial *best = hpo_best_trial(&rq->objective, &rq->trials);
  if (best)
    json_object_set_new(out, "best", json_pack("{s:s, s:I, s:f, s:o}", "name", best->name, "number",
                                               (json_int_t)best->number, "value", best->value, "parameters",
                                               hpo_assignment_json(&rq->space, best->x)));
  json_object_set_new(out, "goalReached", json_boolean(hpo_goal_reached(&rq->objective, &rq->trials)));
  return out;
}

int main(int argc, char **argv) {
  if (argc > 1) {
    fprintf(stderr, "usage: cubit-suggest < request.json\n"
                    "Prints the next trials' parameters as JSON; the format is in docs/experiment.md.\n");
    return strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ? 0 : 2;
  }
  cubit_buf in;
  buf_init(&in, MAX_REQUEST);
  char chunk[65536];
  size_t got;
  while ((got = fread(chunk, 1, sizeof(chunk), stdin)) > 0) {
    if (buf_append(&in, chunk, got) != 0) {
      fprintf(stderr, "cubit-suggest: the request is larger than %u bytes\n", MAX_REQUEST);
      buf_free(&in);
      return 2;
    }
  }
  if (ferror(stdin)) {
    perror("cubit-suggest: reading stdin");
    buf_free(&in);
    return 1;
  }
  json_error_t jerr;
  json_t *j = json_loadb(in.data ? in.data : "", in.len, JSON_REJECT_DUPLICATES, &jerr);
  buf_free(&in);
  if (j == NULL) {
    fprintf(stderr, "cubit-suggest: the request is not JSON: %s (line %d, column %d)\n", jerr.text, jerr.line,
            jerr.column);
    return 2;
  }
  hpo_request rq;
  char err[512];
  int rc = hpo_request_parse(j, &rq, err, sizeof(err));
  json_decref(j);
  if (rc) {
    fprintf(stderr, "cubit-suggest: %s\n", err);
    hpo_request_free(&rq);
    return 2;
  }
  hpo_suggestions sg;
  rc = hpo_suggest(&rq.space, &rq.objective, &rq.algorithm, &rq.trials, rq.count, &sg, err, sizeof(err));
  if (rc) {
    fprintf(stderr, "cubit-suggest: %s\n", err);
    hpo_suggestions_free(&sg);
    hpo_request_free(&rq);
    return 2;
  }
  hpo_stops st;
  hpo_early_stop(&rq.objective, &rq.early_stopping, &rq.trials, &st);
  json_t *out = response(&rq, &sg, &st);
  json_dumpf(out, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
  fputc('\n', stdout);
  json_decref(out);
  hpo_stops_free(&st);
  hpo_suggestions_free(&sg);
  hpo_request_free(&rq);
  return 0;
}
