/* Tests of api/experiment: the search space, the objective, the algorithm
 * and its settings, early stopping, trial records and cubit-suggest's
 * request; every refusal with its message, and the request example of
 * docs/experiment.md. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/experiment/experiment.h"
#include "testutil.h"

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* Fixtures written with single quotes (testutil_json). */
#define J(text) testutil_json(text)

/* ---- the space: valid parameters ------------------------------------------------------ */

typedef struct {
  const char *json;
  hpo_type type;
  hpo_scale scale;
  double min, max, step;
  size_t nsteps, nlist, size;
} space_ok;

static const space_ok space_ok_cases[] = {
    {"{'name':'lr','type':'double','min':0.001,'max':0.1}", HPO_DOUBLE, HPO_LINEAR, 0.001, 0.1, 0, 0, 0, 0},
    {"{'name':'lr','type':'double','min':0.0001,'max':0.1,'scale':'log'}", HPO_DOUBLE, HPO_LOG, 0.0001, 0.1, 0, 0, 0,
     0},
    {"{'name':'drop','type':'double','min':0,'max':0.3,'step':0.1}", HPO_DOUBLE, HPO_LINEAR, 0, 0.3, 0.1, 4, 0, 4},
    {"{'name':'drop','type':'double','min':0,'max':0.35,'step':0.1}", HPO_DOUBLE, HPO_LINEAR, 0, 0.35, 0.1, 4, 0, 4},
    {"{'name':'layers','type':'int','min':2,'max':8}", HPO_INT, HPO_LINEAR, 2, 8, 1, 7, 0, 7},
    {"{'name':'layers','type':'int','min':2,'max':8,'step':2}", HPO_INT, HPO_LINEAR, 2, 8, 2, 4, 0, 4},
    {"{'name':'layers','type':'int','min':2,'max':9,'step':2,'scale':'linear'}", HPO_INT, HPO_LINEAR, 2, 9, 2, 4, 0,
     4},
    {"{'name':'units','type':'int','min':1,'max':1000,'scale':'log'}", HPO_INT, HPO_LOG, 1, 1000, 0, 1000, 0, 1000},
    {"{'name':'epochs','type':'int','min':-3,'max':-1}", HPO_INT, HPO_LINEAR, -3, -1, 1, 3, 0, 3},
    {"{'name':'opt','type':'categorical','list':['adam','sgd','rmsprop']}", HPO_CATEGORICAL, HPO_LINEAR, 0, 0, 0, 0, 3,
     3},
    {"{'name':'only','type':'categorical','list':['one']}", HPO_CATEGORICAL, HPO_LINEAR, 0, 0, 0, 0, 1, 1},
    {"{'name':'batch','type':'discrete','list':[64,16,32]}", HPO_DISCRETE, HPO_LINEAR, 0, 0, 0, 0, 3, 3},
    {"{'name':'_x9','type':'discrete','list':[0.5,0.25]}", HPO_DISCRETE, HPO_LINEAR, 0, 0, 0, 0, 2, 2},
};

START_TEST(space_valid) {
  const space_ok *c = &space_ok_cases[_i];
  char text[512];
  snprintf(text, sizeof(text), "[%s]", c->json);
  json_t *j = J(text);
  hpo_space s;
  char err[256] = "";
  ck_assert_msg(hpo_space_parse(j, "parameters", &s, err, sizeof(err)) == 0, "%s: %s", c->json, err);
  ck_assert_uint_eq(s.n, 1);
  const hpo_param *p = &s.params[0];
  ck_assert_int_eq(p->type, c->type);
  ck_assert_int_eq(p->scale, c->scale);
  ck_assert_double_eq(p->min, c->min);
  ck_assert_double_eq(p->max, c->max);
  ck_assert_double_eq(p->step, c->step);
  ck_assert_uint_eq(p->nsteps, c->nsteps);
  ck_assert_uint_eq(p->nlist, c->nlist);
  ck_assert_uint_eq(hpo_param_size(p), c->size);
  ck_assert_uint_eq(hpo_space_size(&s), c->size);
  hpo_space_free(&s);
  json_decref(j);
}
END_TEST

START_TEST(space_details) {
  json_t *j = J("[{'name':'batch','type':'discrete','list':[64,16,32]},{'name':'w','type':'discrete','list':[0.5,2]},"
                "{'name':'opt','type':'categorical','list':['adam','sgd']},{'name':'x','type':'double','min':-1,'max':1}]");
  hpo_space s;
  char err[256];
  ck_assert_int_eq(hpo_space_parse(j, "parameters", &s, err, sizeof(err)), 0);
  /* discrete values sorted; integers stay integers */
  ck_assert_double_eq(s.params[0].values[0], 16);
  ck_assert_double_eq(s.params[0].values[2], 64);
  ck_assert_int_eq(s.params[0].integral, 1);
  ck_assert_int_eq(s.params[1].integral, 0);
  ck_assert_int_eq(hpo_space_find(&s, "opt"), 2);
  ck_assert_int_eq(hpo_space_find(&s, "nope"), -1);
  ck_assert_uint_eq(hpo_space_size(&s), 0); /* a continuous double */
  double x[4] = {2, 0, 1, -0.25};
  json_t *a = hpo_assignment_json(&s, x);
  char *text = json_dumps(a, JSON_SORT_KEYS | JSON_COMPACT);
  ck_assert_str_eq(text, "{\"batch\":64,\"opt\":\"sgd\",\"w\":0.5,\"x\":-0.25}");
  double back[4];
  ck_assert_int_eq(hpo_assignment_parse(&s, a, "p", back, err, sizeof(err)), 0);
  ck_assert_mem_eq(back, x, sizeof(x));
  free(text);
  json_decref(a);
  hpo_space_free(&s);
  json_decref(j);
}
END_TEST

/* ---- the space: refusals -------------------------------------------------------------- */

typedef struct {
  const char *json;
  const char *msg;
} bad_case;

static const bad_case space_bad_cases[] = {
    {"null", "parameters: required: the parameters to search"},
    {"{}", "parameters: want a list"},
    {"[]", "parameters: the search space is empty"},
    {"[3]", "parameters[0]: want an object"},
    {"[{'name':'x','type':'double','min':0,'max':1,'mx':2}]",
     "parameters[0].mx: unknown field (known: name, type, min, max, step, scale, list)"},
    {"[{'type':'double','min':0,'max':1}]",
     "parameters[0].name: want a name of letters, digits and _ (not starting with a digit, at most 63 characters), "
     "got \"\""},
    {"[{'name':'9lives','type':'int','min':0,'max':1}]",
     "parameters[0].name: want a name of letters, digits and _ (not starting with a digit, at most 63 characters), "
     "got \"9lives\""},
    {"[{'name':'learning-rate','type':'int','min':0,'max':1}]",
     "parameters[0].name: want a name of letters, digits and _ (not starting with a digit, at most 63 characters), "
     "got \"learning-rate\""},
    {"[{'name':'x','type':'int','min':0,'max':1},{'name':'x','type':'int','min':0,'max':1}]",
     "parameters[1].name: parameter x is declared twice"},
    {"[{'name':'x','type':'float','min':0,'max':1}]",
     "parameters[0].type: want int, double, categorical or discrete, got \"float\""},
    {"[{'name':'x','type':'double','max':1}]", "parameters[0].min: required for type double"},
    {"[{'name':'x','type':'double','min':1}]", "parameters[0].max: required for type double"},
    {"[{'name':'x','type':'double','min':'0','max':1}]", "parameters[0].min: want a number"},
    {"[{'name':'x','type':'double','min':1,'max':1}]", "parameters[0].max: must be greater than min (1 >= 1)"},
    {"[{'name':'x','type':'double','min':2,'max':1}]", "parameters[0].max: must be greater than min (2 >= 1)"},
    {"[{'name':'x','type':'int','min':0.5,'max':3}]",
     "parameters[0].min: want an integer for type int, got 0.5"},
    {"[{'name':'x','type':'int','min':0,'max':3.5}]",
     "parameters[0].max: want an integer for type int, got 3.5"},
    {"[{'name':'x','type':'double','min':0,'max':1,'step':0}]", "parameters[0].step: want a number > 0"},
    {"[{'name':'x','type':'double','min':0,'max':1,'step':-0.1}]", "parameters[0].step: want a number > 0"},
    {"[{'name':'x','type':'int','min':0,'max':10,'step':1.5}]",
     "parameters[0].step: want an integer for type int, got 1.5"},
    {"[{'name':'x','type':'double','min':0,'max':1,'step':2}]",
     "parameters[0].step: 2 is larger than max - min (1)"},
    {"[{'name':'x','type':'double','min':0,'max':1,'scale':'log'}]",
     "parameters[0].min: a log scale needs min > 0, got 0"},
    {"[{'name':'x','type':'int','min':-5,'max':10,'scale':'log'}]",
     "parameters[0].min: a log scale needs min > 0, got -5"},
    {"[{'name':'x','type':'double','min':0.1,'max':1,'scale':'log','step':0.1}]",
     "parameters[0].step: a log scale has no step (values are spread by ratio)"},
    {"[{'name':'x','type':'double','min':0.1,'max':1,'scale':'ln'}]",
     "parameters[0].scale: want linear or log, got \"ln\""},
    {"[{'name':'x','type':'double','min':0.1,'max':1,'scale':2}]", "parameters[0].scale: want linear or log"},
    {"[{'name':'x','type':'int','min':0,'max':3,'list':[1]}]",
     "parameters[0].list: type int has min and max, not a list"},
    {"[{'name':'x','type':'categorical'}]", "parameters[0].list: required for type categorical"},
    {"[{'name':'x','type':'categorical','list':[]}]", "parameters[0].list: want a non-empty list"},
    {"[{'name':'x','type':'categorical','list':['a',1]}]", "parameters[0].list[1]: want a non-empty string"},
    {"[{'name':'x','type':'categorical','list':['a','']}]", "parameters[0].list[1]: want a non-empty string"},
    {"[{'name':'x','type':'categorical','list':['a','b','a']}]", "parameters[0].list[2]: \"a\" is listed twice"},
    {"[{'name':'x','type':'categorical','list':['a'],'min':0}]",
     "parameters[0].min: type categorical has a list, not min"},
    {"[{'name':'x','type':'discrete','list':[1,'2']}]", "parameters[0].list[1]: want a number"},
    {"[{'name':'x','type':'discrete','list':[1,2,1.0]}]", "parameters[0].list: 1 is listed twice"},
    {"[{'name':'x','type':'discrete','list':[1,2],'step':1}]",
     "parameters[0].step: type discrete has a list, not step"},
};

START_TEST(space_invalid) {
  const bad_case *c = &space_bad_cases[_i];
  json_t *j = J(c->json);
  hpo_space s;
  char err[512] = "";
  ck_assert_int_eq(hpo_space_parse(j, "parameters", &s, err, sizeof(err)), CUBIT_EINVAL);
  ck_assert_str_eq(err, c->msg);
  hpo_space_free(&s);
  json_decref(j);
}
END_TEST

START_TEST(space_limits) {
  json_t *arr = json_array();
  for (int i = 0; i <= HPO_MAX_PARAMS; i++)
    json_array_append_new(arr, json_pack("{s:s, s:s, s:i, s:i}", "name", "x", "type", "int", "min", 0, "max", 1));
  hpo_space s;
  char err[256];
  ck_assert_int_eq(hpo_space_parse(arr, "parameters", &s, err, sizeof(err)), CUBIT_EINVAL);
  ck_assert_str_eq(err, "parameters: at most 64 parameters");
  hpo_space_free(&s);
  json_decref(arr);
  json_t *list = json_array();
  for (int i = 0; i <= HPO_MAX_LIST; i++) json_array_append_new(list, json_integer(i));
  json_t *p = json_pack("[{s:s, s:s, s:o}]", "name", "x", "type", "discrete", "list", list);
  ck_assert_int_eq(hpo_space_parse(p, "parameters", &s, err, sizeof(err)), CUBIT_EINVAL);
  ck_assert_str_eq(err, "parameters[0].list: at most 1000 values");
  hpo_space_free(&s);
  json_decref(p);
}
END_TEST

/* ---- values --------------------------------------------------------------------------- */

typedef struct {
  const char *param, *value;
  int ok;
  double x;        /* when ok */
  const char *msg; /* when not */
} value_case;

static const value_case value_cases[] = {
    {"{'name':'n','type':'int','min':2,'max':8,'step':2}", "4", 1, 4, NULL},
    {"{'name':'n','type':'int','min':2,'max':8,'step':2}", "'6'", 1, 6, NULL},
    {"{'name':'n','type':'int','min':2,'max':8,'step':2}", "6.0", 1, 6, NULL},
    {"{'name':'n','type':'int','min':2,'max':8,'step':2}", "5", 0, 0, "v: 5 is not min + a multiple of step (2 + k*2)"},
    {"{'name':'n','type':'int','min':2,'max':8}", "4.5", 0, 0, "v: want an integer, got 4.5"},
    {"{'name':'n','type':'int','min':2,'max':8}", "9", 0, 0, "v: 9 is outside parameter n's range [2, 8]"},
    {"{'name':'n','type':'int','min':2,'max':8}", "'four'", 0, 0, "v: want a number, got \"four\""},
    {"{'name':'n','type':'int','min':2,'max':8}", "true", 0, 0, "v: want a number"},
    {"{'name':'d','type':'double','min':0,'max':0.3,'step':0.1}", "0.3", 1, 0.30000000000000004, NULL},
    {"{'name':'d','type':'double','min':0,'max':0.3,'step':0.1}", "0.2", 1, 0.2, NULL},
    {"{'name':'d','type':'double','min':0,'max':0.3,'step':0.1}", "0.25", 0, 0,
     "v: 0.25 is not min + a multiple of step (0 + k*0.1)"},
    {"{'name':'d','type':'double','min':0.001,'max':1,'scale':'log'}", "0.5", 1, 0.5, NULL},
    {"{'name':'d','type':'double','min':0.001,'max':1,'scale':'log'}", "0.0001", 0, 0,
     "v: 0.0001 is outside parameter d's range [0.001, 1]"},
    {"{'name':'c','type':'categorical','list':['adam','sgd']}", "'sgd'", 1, 1, NULL},
    {"{'name':'c','type':'categorical','list':['adam','sgd']}", "'SGD'", 0, 0, "v: \"SGD\" is not in parameter c's list"},
    {"{'name':'c','type':'categorical','list':['adam','sgd']}", "1", 0, 0,
     "v: want a string, one of parameter c's list"},
    {"{'name':'b','type':'discrete','list':[64,16,32]}", "32", 1, 1, NULL},
    {"{'name':'b','type':'discrete','list':[64,16,32]}", "'64'", 1, 2, NULL},
    {"{'name':'b','type':'discrete','list':[64,16,32]}", "48", 0, 0, "v: 48 is not in parameter b's list"},
};

START_TEST(values) {
  const value_case *c = &value_cases[_i];
  char text[256];
  snprintf(text, sizeof(text), "[%s]", c->param);
  json_t *j = J(text), *v = J(c->value);
  hpo_space s;
  char err[256] = "";
  ck_assert_int_eq(hpo_space_parse(j, "parameters", &s, err, sizeof(err)), 0);
  double x = -1;
  int rc = hpo_value_parse(&s.params[0], v, "v", &x, err, sizeof(err));
  if (c->ok) {
    ck_assert_msg(rc == 0, "%s %s: %s", c->param, c->value, err);
    ck_assert_double_eq(x, c->x);
  } else {
    ck_assert_int_eq(rc, CUBIT_EINVAL);
    ck_assert_str_eq(err, c->msg);
  }
  hpo_space_free(&s);
  json_decref(j);
  json_decref(v);
}
END_TEST

typedef struct {
  const char *param;
  double in, out;
} snap_case;

static const snap_case snap_cases[] = {
    {"{'name':'n','type':'int','min':2,'max':8,'step':2}", 4.9, 4},
    {"{'name':'n','type':'int','min':2,'max':8,'step':2}", 5.1, 6},
    {"{'name':'n','type':'int','min':2,'max':8,'step':2}", 100, 8},
    {"{'name':'n','type':'int','min':2,'max':9,'step':2}", 9, 8},
    {"{'name':'n','type':'int','min':1,'max':100,'scale':'log'}", 7.6, 8},
    {"{'name':'n','type':'int','min':1,'max':100,'scale':'log'}", -3, 1},
    {"{'name':'d','type':'double','min':-1,'max':1}", 1.5, 1},
    {"{'name':'d','type':'double','min':-1,'max':1}", 0.123, 0.123},
    {"{'name':'d','type':'double','min':0,'max':1,'step':0.25}", 0.3, 0.25},
    {"{'name':'c','type':'categorical','list':['a','b','c']}", 1.6, 2},
    {"{'name':'c','type':'categorical','list':['a','b','c']}", -2, 0},
    {"{'name':'b','type':'discrete','list':[1,2,4]}", 7, 2},
};

START_TEST(snapping) {
  const snap_case *c = &snap_cases[_i];
  char text[256];
  snprintf(text, sizeof(text), "[%s]", c->param);
  json_t *j = J(text);
  hpo_space s;
  ck_assert_int_eq(hpo_space_parse(j, "parameters", &s, NULL, 0), 0);
  ck_assert_double_eq(hpo_param_snap(&s.params[0], c->in), c->out);
  ck_assert_double_eq(hpo_param_snap(&s.params[0], NAN), hpo_param_snap(&s.params[0], s.params[0].min));
  hpo_space_free(&s);
  json_decref(j);
}
END_TEST

/* An index or value snapped from just below zero is +0, bit for bit: the
 * algorithms compare assignments by their bits (found by fuzzing). */
START_TEST(snapping_negative_zero) {
  json_t *j = J("[{'name':'b','type':'discrete','list':[1,2]},{'name':'x','type':'double','min':0,'max':1}]");
  hpo_space s;
  ck_assert_int_eq(hpo_space_parse(j, "parameters", &s, NULL, 0), 0);
  ck_assert(!signbit(hpo_param_snap(&s.params[0], -0.3)));
  ck_assert(!signbit(hpo_param_snap(&s.params[1], -0.0)));
  hpo_space_free(&s);
  json_decref(j);
}
END_TEST

/* ---- the objective -------------------------------------------------------------------- */

START_TEST(objective_fields) {
  json_t *j = J("{'metric':'val/acc-1.5','type':'maximize','goal':0.99,'strategy':'max','additionalMetrics':['loss']}");
  hpo_objective o;
  char err[256];
  ck_assert_int_eq(hpo_objective_parse(j, "objective", &o, err, sizeof(err)), 0);
  ck_assert_str_eq(o.metric, "val/acc-1.5");
  ck_assert_int_eq(o.direction, HPO_MAXIMIZE);
  ck_assert_int_eq(o.has_goal, 1);
  ck_assert_double_eq(o.goal, 0.99);
  ck_assert_int_eq(o.strategy, HPO_STRATEGY_MAX);
  ck_assert_uint_eq(o.nadditional, 1);
  ck_assert_str_eq(o.additional[0], "loss");
  ck_assert_double_eq(hpo_loss(&o, 0.9), -0.9);
  ck_assert_int_eq(hpo_better(&o, 0.9, 0.8), 1);
  ck_assert_str_eq(hpo_direction_name(o.direction), "maximize");
  ck_assert_str_eq(hpo_strategy_name(o.strategy), "max");
  json_decref(j);
  j = J("{'metric':'loss','type':'minimize'}");
  ck_assert_int_eq(hpo_objective_parse(j, "objective", &o, err, sizeof(err)), 0);
  ck_assert_int_eq(o.strategy, HPO_STRATEGY_LAST);
  ck_assert_int_eq(o.has_goal, 0);
  ck_assert_int_eq(hpo_better(&o, 0.1, 0.2), 1);
  json_decref(j);
}
END_TEST

static const bad_case objective_bad_cases[] = {
    {"null", "objective: required: the metric to optimise and its type"},
    {"[]", "objective: want an object"},
    {"{'metric':'loss','type':'minimize','target':1}",
     "objective.target: unknown field (known: metric, type, goal, strategy, additionalMetrics)"},
    {"{'type':'minimize'}",
     "objective.metric: want a metric name of letters, digits and _ - . / (at most 63 characters), got \"\""},
    {"{'metric':'a b','type':'minimize'}",
     "objective.metric: want a metric name of letters, digits and _ - . / (at most 63 characters), got \"a b\""},
    {"{'metric':'loss'}", "objective.type: want minimize or maximize, got \"\""},
    {"{'metric':'loss','type':'min'}", "objective.type: want minimize or maximize, got \"min\""},
    {"{'metric':'loss','type':'minimize','goal':'0.1'}", "objective.goal: want a number"},
    {"{'metric':'loss','type':'minimize','strategy':'best'}", "objective.strategy: want last, min or max, got \"best\""},
    {"{'metric':'loss','type':'minimize','additionalMetrics':'acc'}", "objective.additionalMetrics: want a list"},
    {"{'metric':'loss','type':'minimize','additionalMetrics':['acc','loss']}",
     "objective.additionalMetrics[1]: loss is the objective's metric"},
    {"{'metric':'loss','type':'minimize','additionalMetrics':['acc','acc']}",
     "objective.additionalMetrics[1]: acc is listed twice"},
    {"{'metric':'loss','type':'minimize','additionalMetrics':[3]}",
     "objective.additionalMetrics[0]: want a metric name, got \"\""},
};

START_TEST(objective_invalid) {
  const bad_case *c = &objective_bad_cases[_i];
  json_t *j = J(c->json);
  hpo_objective o;
  char err[512] = "";
  ck_assert_int_eq(hpo_objective_parse(j, "objective", &o, err, sizeof(err)), CUBIT_EINVAL);
  ck_assert_str_eq(err, c->msg);
  json_decref(j);
}
END_TEST

/* ---- the algorithm -------------------------------------------------------------------- */

static const char *const test_space =
    "[{'name':'lr','type':'double','min':0.001,'max':0.1,'scale':'log'},{'name':'epochs','type':'int','min':1,"
    "'max':27},{'name':'opt','type':'categorical','list':['adam','sgd']},{'name':'drop','type':'double','min':0,"
    "'max':0.5,'step':0.1}]";

static void parse_space(const char *text, hpo_space *s) {
  json_t *j = J(text);
  char err[256];
  ck_assert_msg(hpo_space_parse(j, "parameters", s, err, sizeof(err)) == 0, "%s", err);
  json_decref(j);
}

START_TEST(algorithm_settings) {
  hpo_space s;
  parse_space(test_space, &s);
  hpo_algorithm a;
  char err[512];
  json_t *j = J("{'name':'tpe'}");
  ck_assert_int_eq(hpo_algorithm_parse(j, &s, "algorithm", &a, err, sizeof(err)), 0);
  ck_assert_int_eq(a.kind, HPO_TPE);
  ck_assert_uint_eq(a.seed, 0);
  ck_assert_double_eq(a.tpe.gamma, 0.2);
  ck_assert_int_eq(a.tpe.n_startup, 0);
  ck_assert_int_eq(a.tpe.n_candidates, 128);
  ck_assert_int_eq(a.tpe.multivariate, 1);
  json_decref(j);
  j = J("{'name':'tpe','seed':42,'settings':{'gamma':'0.15','nStartup':5,'nCandidates':'64','priorWeight':2,"
        "'multivariate':'false'}}");
  ck_assert_msg(hpo_algorithm_parse(j, &s, "algorithm", &a, err, sizeof(err)) == 0, "%s", err);
  ck_assert_uint_eq(a.seed, 42);
  ck_assert_double_eq(a.tpe.gamma, 0.15);
  ck_assert_int_eq(a.tpe.n_startup, 5);
  ck_assert_int_eq(a.tpe.n_candidates, 64);
  ck_assert_double_eq(a.tpe.prior_weight, 2);
  ck_assert_int_eq(a.tpe.multivariate, 0);
  json_decref(j);
  j = J("{'name':'bayesian','settings':{'kernel':'rbf','xi':0,'maxPoints':50,'nCandidates':100,'nStartup':3}}");
  ck_assert_msg(hpo_algorithm_parse(j, &s, "algorithm", &a, err, sizeof(err)) == 0, "%s", err);
  ck_assert_int_eq(a.bayesian.kernel, HPO_KERNEL_RBF);
  ck_assert_double_eq(a.bayesian.xi, 0);
  ck_assert_int_eq(a.bayesian.max_points, 50);
  json_decref(j);
  j = J("{'name':'cmaes','settings':{'sigma':0.5,'population':8}}");
  ck_assert_msg(hpo_algorithm_parse(j, &s, "algorithm", &a, err, sizeof(err)) == 0, "%s", err);
  ck_assert_double_eq(a.cmaes.sigma, 0.5);
  ck_assert_int_eq(a.cmaes.population, 8);
  json_decref(j);
  j = J("{'name':'hyperband','settings':{'resourceName':'epochs','eta':3}}");
  ck_assert_msg(hpo_algorithm_parse(j, &s, "algorithm", &a, err, sizeof(err)) == 0, "%s", err);
  ck_assert_int_eq(a.hyperband.resource_index, 1);
  ck_assert_str_eq(a.hyperband.resource, "epochs");
  json_decref(j);
  j = J("{'name':'grid','settings':{'gridPoints':5}}");
  ck_assert_msg(hpo_algorithm_parse(j, &s, "algorithm", &a, err, sizeof(err)) == 0, "%s", err);
  ck_assert_int_eq(a.grid.points, 5);
  ck_assert_str_eq(hpo_algorithm_name(a.kind), "grid");
  json_decref(j);
  j = J("{'name':'random','seed':7}");
  ck_assert_msg(hpo_algorithm_parse(j, &s, "algorithm", &a, err, sizeof(err)) == 0, "%s", err);
  ck_assert_uint_eq(a.seed, 7);
  json_decref(j);
  hpo_space_free(&s);
}
END_TEST

typedef struct {
  const char *space; /* NULL: test_space */
  const char *json;
  const char *msg;
} alg_bad_case;

static const alg_bad_case algorithm_bad_cases[] = {
    {NULL, "null", "algorithm: required (name: random, grid, tpe, bayesian, cmaes or hyperband)"},
    {NULL, "'tpe'", "algorithm: want an object"},
    {NULL, "{'name':'tpe','opts':{}}", "algorithm.opts: unknown field (known: name, seed, settings)"},
    {NULL, "{'name':'smac'}",
     "algorithm.name: unknown algorithm \"smac\" (known: random, grid, tpe, bayesian, cmaes, hyperband)"},
    {NULL, "{}", "algorithm.name: unknown algorithm \"\" (known: random, grid, tpe, bayesian, cmaes, hyperband)"},
    {NULL, "{'name':'tpe','seed':-1}", "algorithm.seed: want an integer >= 0"},
    {NULL, "{'name':'tpe','seed':'1'}", "algorithm.seed: want an integer >= 0"},
    {NULL, "{'name':'tpe','settings':[]}", "algorithm.settings: want an object"},
    {NULL, "{'name':'tpe','settings':{'n_startup':3}}",
     "algorithm.settings.n_startup: unknown setting of tpe (known: gamma, nStartup, nCandidates, priorWeight, "
     "multivariate)"},
    {NULL, "{'name':'random','settings':{'gamma':0.1}}",
     "algorithm.settings.gamma: unknown setting of random (known: none)"},
    {NULL, "{'name':'cmaes','settings':{'gridPoints':3}}",
     "algorithm.settings.gridPoints: unknown setting of cmaes (known: sigma, population)"},
    {NULL, "{'name':'tpe','settings':{'gamma':0}}", "algorithm.settings.gamma: want a value in (0, 1], got 0"},
    {NULL, "{'name':'tpe','settings':{'gamma':1.5}}", "algorithm.settings.gamma: want a value in (0, 1], got 1.5"},
    {NULL, "{'name':'tpe','settings':{'gamma':'lots'}}", "algorithm.settings.gamma: want a number"},
    {NULL, "{'name':'tpe','settings':{'nStartup':2.5}}", "algorithm.settings.nStartup: want an integer"},
    {NULL, "{'name':'tpe','settings':{'nCandidates':0}}",
     "algorithm.settings.nCandidates: want a value in [1, 10000], got 0"},
    {NULL, "{'name':'tpe','settings':{'multivariate':1}}", "algorithm.settings.multivariate: want true or false"},
    {NULL, "{'name':'bayesian','settings':{'kernel':'matern32'}}",
     "algorithm.settings.kernel: want matern52 or rbf, got \"matern32\""},
    {NULL, "{'name':'bayesian','settings':{'maxPoints':5000}}",
     "algorithm.settings.maxPoints: want a value in [10, 2000], got 5000"},
    {NULL, "{'name':'cmaes','settings':{'sigma':0}}", "algorithm.settings.sigma: want a value in (0, 1], got 0"},
    {NULL, "{'name':'grid'}",
     "algorithm.settings.gridPoints: parameter lr is a double without a step: grid needs its step or gridPoints (how "
     "many values of each such double)"},
    {NULL, "{'name':'grid','settings':{'gridPoints':1}}",
     "algorithm.settings.gridPoints: want a value in [2, 100000], got 1"},
    {NULL, "{'name':'hyperband'}",
     "algorithm.settings.resourceName: required for hyperband: the int or double parameter (epochs, steps) the rungs "
     "raise"},
    {NULL, "{'name':'hyperband','settings':{'resourceName':'steps'}}",
     "algorithm.settings.resourceName: steps is not a parameter of the search space"},
    {NULL, "{'name':'hyperband','settings':{'resourceName':'opt'}}",
     "algorithm.settings.resourceName: parameter opt is categorical; the resource must be an int or a double"},
    {NULL, "{'name':'hyperband','settings':{'resourceName':'drop'}}",
     "algorithm.settings.resourceName: parameter drop needs min > 0 to be a resource, got 0"},
    {NULL, "{'name':'hyperband','settings':{'resourceName':'epochs','eta':30}}",
     "algorithm.settings.eta: parameter epochs's max / min (27) must be at least eta (30) for more than one rung"},
    {NULL, "{'name':'hyperband','settings':{'resourceName':'epochs','eta':1}}",
     "algorithm.settings.eta: want a value in (1, 100], got 1"},
    {NULL, "{'name':'hyperband','settings':{'resourceName':3}}",
     "algorithm.settings.resourceName: want a parameter name"},
    {"[{'name':'opt','type':'categorical','list':['adam','sgd']}]", "{'name':'cmaes'}",
     "algorithm.name: cmaes needs an int, double or discrete parameter; the space has only categorical ones"},
};

START_TEST(algorithm_invalid) {
  const alg_bad_case *c = &algorithm_bad_cases[_i];
  hpo_space s;
  parse_space(c->space ? c->space : test_space, &s);
  json_t *j = J(c->json);
  hpo_algorithm a;
  char err[512] = "";
  ck_assert_int_eq(hpo_algorithm_parse(j, &s, "algorithm", &a, err, sizeof(err)), CUBIT_EINVAL);
  ck_assert_str_eq(err, c->msg);
  json_decref(j);
  hpo_space_free(&s);
}
END_TEST

START_TEST(early_stopping) {
  hpo_early_stopping es;
  char err[256];
  ck_assert_int_eq(hpo_early_stopping_parse(NULL, "earlyStopping", &es, err, sizeof(err)), 0);
  ck_assert_int_eq(es.kind, HPO_ES_NONE);
  json_t *j = J("{'name':'medianstop'}");
  ck_assert_int_eq(hpo_early_stopping_parse(j, "earlyStopping", &es, err, sizeof(err)), 0);
  ck_assert_int_eq(es.kind, HPO_ES_MEDIANSTOP);
  ck_assert_int_eq(es.min_trials, 3);
  ck_assert_int_eq(es.start_step, 4);
  json_decref(j);
  j = J("{'name':'medianstop','settings':{'minTrials':5,'startStep':10000000000}}");
  ck_assert_int_eq(hpo_early_stopping_parse(j, "earlyStopping", &es, err, sizeof(err)), 0);
  ck_assert_int_eq(es.min_trials, 5);
  ck_assert(es.start_step == 10000000000LL);
  json_decref(j);
}
END_TEST

static const bad_case early_stopping_bad_cases[] = {
    {"[]", "earlyStopping: want an object"},
    {"{'name':'median'}", "earlyStopping.name: unknown early stopping \"median\" (known: medianstop)"},
    {"{'name':'medianstop','rule':1}", "earlyStopping.rule: unknown field (known: name, settings)"},
    {"{'name':'medianstop','settings':{'minTrial':3}}",
     "earlyStopping.settings.minTrial: unknown setting of medianstop (known: minTrials, startStep)"},
    {"{'name':'medianstop','settings':{'minTrials':0}}",
     "earlyStopping.settings.minTrials: want a value in [1, 100000], got 0"},
    {"{'name':'medianstop','settings':{'startStep':-1}}",
     "earlyStopping.settings.startStep: want a value in [0, 1e+15], got -1"},
};

START_TEST(early_stopping_invalid) {
  const bad_case *c = &early_stopping_bad_cases[_i];
  json_t *j = J(c->json);
  hpo_early_stopping es;
  char err[512] = "";
  ck_assert_int_eq(hpo_early_stopping_parse(j, "earlyStopping", &es, err, sizeof(err)), CUBIT_EINVAL);
  ck_assert_str_eq(err, c->msg);
  json_decref(j);
}
END_TEST

/* ---- trials --------------------------------------------------------------------------- */

static const char *const trial_space =
    "[{'name':'lr','type':'double','min':0.001,'max':0.1},{'name':'opt','type':'categorical','list':['adam','sgd']}]";

START_TEST(trials_fields) {
  hpo_space s;
  parse_space(trial_space, &s);
  json_t *oj = J("{'metric':'acc','type':'maximize','strategy':'max'}");
  hpo_objective o;
  ck_assert_int_eq(hpo_objective_parse(oj, "objective", &o, NULL, 0), 0);
  json_t *j = J("[{'name':'b','number':5,'state':'Succeeded','parameters':{'lr':0.01,'opt':'sgd'},"
                "'observations':[{'step':1,'value':0.5},{'step':2,'value':0.9},{'step':3,'value':0.8}]},"
                "{'name':'a','number':2,'state':'Running','parameters':{'lr':'0.02','opt':'adam'},"
                "'observations':[{'value':0.1},{'value':0.2}]},"
                "{'state':'Failed','parameters':{'lr':0.05,'opt':'adam'}},"
                "{'name':'d','number':9,'state':'EarlyStopped','parameters':{'lr':0.001,'opt':'adam'},'value':0.95},"
                "{'name':'e','number':7,'state':'Pending','parameters':{'lr':0.1,'opt':'sgd'}}]");
  hpo_trials t;
  char err[512] = "";
  ck_assert_msg(hpo_trials_parse(j, &s, &o, "trials", &t, err, sizeof(err)) == 0, "%s", err);
  ck_assert_uint_eq(t.n, 5);
  /* sorted by number; the third record's number is its position */
  static const int64_t numbers[] = {2, 3, 5, 7, 9};
  for (size_t i = 0; i < 5; i++) ck_assert_int_eq(t.items[i].number, numbers[i]);
  ck_assert_str_eq(t.items[0].name, "a");
  ck_assert_str_eq(t.items[1].name, "");
  ck_assert_int_eq(t.items[0].state, HPO_TRIAL_RUNNING);
  ck_assert_int_eq(t.items[0].obs[1].step, 2); /* the position */
  ck_assert_int_eq(t.items[0].has_value, 1);   /* running, with a value so far */
  ck_assert_double_eq(t.items[0].value, 0.2);
  ck_assert_int_eq(t.items[1].has_value, 0);
  ck_assert_double_eq(t.items[2].value, 0.9); /* max of the observations */
  ck_assert_double_eq(t.items[2].x[1], 1);
  ck_assert_double_eq(t.items[4].value, 0.95);
  ck_assert_int_eq(hpo_trial_scored(&t.items[0]), 0);
  ck_assert_int_eq(hpo_trial_scored(&t.items[2]), 1);
  ck_assert_int_eq(hpo_trial_finished(&t.items[1]), 1);
  ck_assert_int_eq(hpo_trial_finished(&t.items[3]), 0);
  const hpo_trial *best = hpo_best_trial(&o, &t);
  ck_assert_str_eq(best->name, "d");
  ck_assert_int_eq(hpo_goal_reached(&o, &t), 0);
  o.has_goal = 1;
  o.goal = 0.95;
  ck_assert_int_eq(hpo_goal_reached(&o, &t), 1);
  o.goal = 0.951;
  ck_assert_int_eq(hpo_goal_reached(&o, &t), 0);
  ck_assert_str_eq(hpo_trial_state_name(t.items[4].state), "EarlyStopped");
  hpo_trials_free(&t);
  json_decref(j);
  json_decref(oj);
  hpo_space_free(&s);
}
END_TEST

START_TEST(series_strategies) {
  hpo_observation obs[] = {{1, 3}, {2, 1}, {3, 2}};
  ck_assert_double_eq(hpo_series_value(HPO_STRATEGY_LAST, obs, 3), 2);
  ck_assert_double_eq(hpo_series_value(HPO_STRATEGY_MIN, obs, 3), 1);
  ck_assert_double_eq(hpo_series_value(HPO_STRATEGY_MAX, obs, 3), 3);
  ck_assert_double_eq(hpo_series_value(HPO_STRATEGY_MIN, obs, 1), 3);
}
END_TEST

static const bad_case trials_bad_cases[] = {
    {"{}", "trials: want a list"},
    {"[1]", "trials[0]: want an object"},
    {"[{'state':'Done','parameters':{'lr':0.01,'opt':'sgd'}}]",
     "trials[0].state: want Pending, Running, Succeeded, Failed or EarlyStopped, got \"Done\""},
    {"[{'state':'Running','parameters':{'lr':0.01,'opt':'sgd'},'metrics':{}}]",
     "trials[0].metrics: unknown field (known: name, number, state, parameters, value, observations)"},
    {"[{'name':3,'state':'Running','parameters':{'lr':0.01,'opt':'sgd'}}]", "trials[0].name: want a string"},
    {"[{'number':0,'state':'Running','parameters':{'lr':0.01,'opt':'sgd'}}]", "trials[0].number: want an integer >= 1"},
    {"[{'state':'Running'}]", "trials[0].parameters: want an object of parameter values"},
    {"[{'state':'Running','parameters':{'lr':0.01}}]", "trials[0].parameters.opt: missing"},
    {"[{'state':'Running','parameters':{'lr':0.01,'opt':'sgd','wd':1}}]",
     "trials[0].parameters.wd: not a parameter of the search space"},
    {"[{'state':'Running','parameters':{'lr':0.5,'opt':'sgd'}}]",
     "trials[0].parameters.lr: 0.5 is outside parameter lr's range [0.001, 0.1]"},
    {"[{'state':'Running','parameters':{'lr':0.01,'opt':'sgd'},'value':'high'}]", "trials[0].value: want a number"},
    {"[{'state':'Running','parameters':{'lr':0.01,'opt':'sgd'},'observations':{}}]",
     "trials[0].observations: want a list"},
    {"[{'state':'Running','parameters':{'lr':0.01,'opt':'sgd'},'observations':[{'step':1}]}]",
     "trials[0].observations[0]: want {\"step\": N, \"value\": number}"},
    {"[{'state':'Running','parameters':{'lr':0.01,'opt':'sgd'},'observations':[{'step':-1,'value':1}]}]",
     "trials[0].observations[0].step: want an integer >= 0"},
    {"[{'state':'Succeeded','parameters':{'lr':0.01,'opt':'sgd'}}]",
     "trials[0]: state Succeeded needs a value or observations of loss"},
    {"[{'state':'EarlyStopped','parameters':{'lr':0.01,'opt':'sgd'},'observations':[]}]",
     "trials[0]: state EarlyStopped needs a value or observations of loss"},
    {"[{'name':'a','number':2,'state':'Failed','parameters':{'lr':0.01,'opt':'sgd'}},"
     "{'name':'b','number':2,'state':'Failed','parameters':{'lr':0.01,'opt':'sgd'}}]",
     "trials: two trials have number 2 (a and b)"},
};

START_TEST(trials_invalid) {
  const bad_case *c = &trials_bad_cases[_i];
  hpo_space s;
  parse_space(trial_space, &s);
  json_t *oj = J("{'metric':'loss','type':'minimize'}");
  hpo_objective o;
  ck_assert_int_eq(hpo_objective_parse(oj, "objective", &o, NULL, 0), 0);
  json_t *j = J(c->json);
  hpo_trials t;
  char err[512] = "";
  ck_assert_int_eq(hpo_trials_parse(j, &s, &o, "trials", &t, err, sizeof(err)), CUBIT_EINVAL);
  ck_assert_str_eq(err, c->msg);
  hpo_trials_free(&t);
  json_decref(j);
  json_decref(oj);
  hpo_space_free(&s);
}
END_TEST

/* ---- the request ---------------------------------------------------------------------- */

static const bad_case request_bad_cases[] = {
    {"[]", "request: want a JSON object"},
    {"{'parameters':[{'name':'x','type':'int','min':0,'max':3}],'objective':{'metric':'m','type':'minimize'},"
     "'algorithm':{'name':'random'},'spec':{}}",
     "spec: unknown field (known: parameters, objective, algorithm, earlyStopping, trials, count)"},
    {"{'objective':{'metric':'m','type':'minimize'},'algorithm':{'name':'random'}}",
     "parameters: required: the parameters to search"},
    {"{'parameters':[{'name':'x','type':'int','min':0,'max':3}],'algorithm':{'name':'random'}}",
     "objective: required: the metric to optimise and its type"},
    {"{'parameters':[{'name':'x','type':'int','min':0,'max':3}],'objective':{'metric':'m','type':'minimize'}}",
     "algorithm: required (name: random, grid, tpe, bayesian, cmaes or hyperband)"},
    {"{'parameters':[{'name':'x','type':'int','min':0,'max':3}],'objective':{'metric':'m','type':'minimize'},"
     "'algorithm':{'name':'random'},'earlyStopping':{'name':'x'}}",
     "earlyStopping.name: unknown early stopping \"x\" (known: medianstop)"},
    {"{'parameters':[{'name':'x','type':'int','min':0,'max':3}],'objective':{'metric':'m','type':'minimize'},"
     "'algorithm':{'name':'random'},'trials':[{'state':'Running','parameters':{'x':4}}]}",
     "trials[0].parameters.x: 4 is outside parameter x's range [0, 3]"},
    {"{'parameters':[{'name':'x','type':'int','min':0,'max':3}],'objective':{'metric':'m','type':'minimize'},"
     "'algorithm':{'name':'random'},'count':1001}",
     "count: want an integer in [0, 1000]"},
    {"{'parameters':[{'name':'x','type':'int','min':0,'max':3}],'objective':{'metric':'m','type':'minimize'},"
     "'algorithm':{'name':'random'},'count':'2'}",
     "count: want an integer in [0, 1000]"},
};

START_TEST(request_invalid) {
  const bad_case *c = &request_bad_cases[_i];
  json_t *j = J(c->json);
  hpo_request r;
  char err[512] = "";
  ck_assert_int_eq(hpo_request_parse(j, &r, err, sizeof(err)), CUBIT_EINVAL);
  ck_assert_str_eq(err, c->msg);
  hpo_request_free(&r);
  json_decref(j);
}
END_TEST

/* The request documented in docs/experiment.md parses. */
START_TEST(docs_request) {
  size_t len;
  char *doc = testutil_read_src("docs/experiment.md", &len);
  const char *start = strstr(doc, "<!-- request -->");
  ck_assert_msg(start != NULL, "docs/experiment.md has no <!-- request --> example");
  start = strstr(start, "```json\n");
  ck_assert_ptr_nonnull(start);
  start += 8;
  const char *end = strstr(start, "```");
  ck_assert_ptr_nonnull(end);
  json_error_t jerr;
  json_t *j = json_loadb(start, (size_t)(end - start), 0, &jerr);
  ck_assert_msg(j != NULL, "docs request: %s", jerr.text);
  hpo_request r;
  char err[512] = "";
  ck_assert_msg(hpo_request_parse(j, &r, err, sizeof(err)) == 0, "docs request: %s", err);
  ck_assert_uint_eq(r.count, 2);
  ck_assert_uint_eq(r.trials.n, 3);
  ck_assert_int_eq(r.algorithm.kind, HPO_TPE);
  ck_assert_int_eq(r.early_stopping.kind, HPO_ES_MEDIANSTOP);
  hpo_request_free(&r);
  json_decref(j);
  free(doc);
}
END_TEST

int main(void) {
  Suite *s = suite_create("experiment");
  TCase *tc = tcase_create("core");
  tcase_add_loop_test(tc, space_valid, 0, N(space_ok_cases));
  tcase_add_test(tc, space_details);
  tcase_add_loop_test(tc, space_invalid, 0, N(space_bad_cases));
  tcase_add_test(tc, space_limits);
  tcase_add_loop_test(tc, values, 0, N(value_cases));
  tcase_add_loop_test(tc, snapping, 0, N(snap_cases));
  tcase_add_test(tc, snapping_negative_zero);
  tcase_add_test(tc, objective_fields);
  tcase_add_loop_test(tc, objective_invalid, 0, N(objective_bad_cases));
  tcase_add_test(tc, algorithm_settings);
  tcase_add_loop_test(tc, algorithm_invalid, 0, N(algorithm_bad_cases));
  tcase_add_test(tc, early_stopping);
  tcase_add_loop_test(tc, early_stopping_invalid, 0, N(early_stopping_bad_cases));
  tcase_add_test(tc, trials_fields);
  tcase_add_test(tc, series_strategies);
  tcase_add_loop_test(tc, trials_invalid, 0, N(trials_bad_cases));
  tcase_add_loop_test(tc, request_invalid, 0, N(request_bad_cases));
  tcase_add_test(tc, docs_request);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
